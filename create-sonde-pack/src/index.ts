export { main } from './main.js';
export { generate, refusePopulated, TEMPLATES_DIR, type Answers } from './generate.js';
export { checkPackName, checkProbeName, checkScope, checkPackageName, packNameFromFolder, PACK_NAME, PROBE_NAME } from './names.js';
export { parseOptions, usage, TEMPLATES, type Options, type Template } from './options.js';
