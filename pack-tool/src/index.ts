export { main } from './main.js';
export { loadPack, loadProject, manifestDocument, serializeManifest, SCHEMA_REF, MANIFEST_FILE, type Project } from './project.js';
export { validateProject } from './commands/validate.js';
export { RULES, type Finding } from './findings.js';
export { toSarif } from './sarif.js';
