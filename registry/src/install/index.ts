export { fetchPackTarball, type FetchOptions, type FetchedTarball } from './fetch.js';
export { installVerifiedPack, storePath, verifyInstalled, type InstallSource, type InstalledVersion } from './install.js';
