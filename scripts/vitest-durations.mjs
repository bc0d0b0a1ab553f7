// A vitest reporter that writes each test file's wall time, hooks and import included
// (vitest's JSON report only spans the tests themselves, so a file whose beforeAll starts
// a hub for 20 s looks fast there). scripts/run-tests.mjs reads it for the slowest-files table.
import { writeFileSync } from 'node:fs';

export default class DurationsReporter {
  constructor(options = {}) {
    this.outputFile = options.outputFile ?? process.env.SONDE_DURATIONS_FILE;
  }

  onTestRunEnd(testModules) {
    if (!this.outputFile) return;
    const files = testModules.map((module) => {
      const d = module.diagnostic();
      const ms = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration;
      return { file: module.moduleId, ms: Math.round(ms) };
    });
    writeFileSync(this.outputFile, `${JSON.stringify(files)}\n`);
  }
}
