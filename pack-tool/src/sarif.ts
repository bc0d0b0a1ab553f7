import { RULES, type Finding } from './findings.js';

/** SARIF 2.1.0, the format GitHub code scanning and most CI systems read. */
export function toSarif(findings: Finding[], version: string): unknown {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'sonde-pack',
            version,
            informationUri: 'https://github.com/sonde/sonde/tree/main/pack-tool',
            rules: Object.entries(RULES).map(([id, text]) => ({ id, shortDescription: { text } })),
          },
        },
        results: findings.map((finding) => ({
          ruleId: finding.rule,
          level: finding.level,
          message: { text: finding.message },
          ...(finding.file
            ? {
                locations: [
                  {
                    physicalLocation: {
                      artifactLocation: { uri: finding.file },
                      ...(finding.line ? { region: { startLine: finding.line } } : {}),
                    },
                  },
                ],
              }
            : {}),
        })),
      },
    ],
  };
}
