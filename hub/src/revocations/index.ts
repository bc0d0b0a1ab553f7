export { RevocationService, type RevocationActor } from './service.js';
