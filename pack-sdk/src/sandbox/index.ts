export { createSandboxRunner } from './runner.js';
export { ReadyManifestSchema, type ReadyManifest } from './messages.js';
export type {
  SandboxRunner,
  SandboxRunnerOptions,
  SandboxRunOutcome,
  SandboxSecurityEvent,
  SandboxState,
  SandboxStatus,
} from './runner.js';
export { SandboxLimitsSchema, type SandboxLimits, type SandboxLimitsInput, type LimitReason } from './limits.js';
export { detectOsSandbox, detectSetpriv, prepareOsSandbox, isolationGap, isolationLabel, nodeFacts, type OsSandbox } from './isolation.js';
export { vendorHostPackages, HOST_PACKAGES } from './vendor.js';
export { readPackProcessBundle, BUNDLE_MANIFEST, type PackProcessBundle, type BundledPackage } from './bundle.js';
export { guardSigusr1 } from './signals.js';
export { measureSandboxOverhead, type SandboxOverhead } from './measure.js';
export { PackRunnerPool, type ActivateOptions, type ApprovedPack, type PackRunnerPoolOptions } from './pool.js';
