import { loadConfig, packsDirOf } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { homePaths, type HomePaths } from '../home.js';

export interface CliContext {
  paths: HomePaths;
  config: AgentConfig;
  packsDir: string;
}

export function cliContext(): CliContext {
  const paths = homePaths();
  const config = loadConfig(paths);
  return { paths, config, packsDir: packsDirOf(paths, config) };
}
