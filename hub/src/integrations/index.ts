import type { IntegrationToolSource } from '../mcp/types.js';
import type { IntegrationService } from './service.js';

export { IntegrationService, actorOf, type PackView, type InstanceView, type InstallInput } from './service.js';
export { IntegrationErrors } from './codes.js';

/** The MCP layer's view of the service: serving packs with their instances, and runs. */
export function integrationToolSource(service: IntegrationService): IntegrationToolSource {
  return {
    packs: () => {
      const instances = service.instanceTargets();
      return service.activePacks().map((pack) => ({
        name: pack.name,
        version: pack.version,
        manifest: pack.manifest,
        instances: instances.filter((i) => i.pack === pack.name).map((i) => i.name),
      }));
    },
    // By name only: an MCP caller names instances, never their ids.
    instancePack: (instance) => service.instanceTarget(instance)?.pack,
    run: (instance, probe, params, timeoutMs) => service.run(instance, probe, params, timeoutMs),
  };
}
