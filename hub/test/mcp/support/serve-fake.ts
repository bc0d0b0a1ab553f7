/**
 * Starts the MCP plugin on fake services and prints its URL, for trying real
 * clients by hand: `npx tsx --conditions=sonde-source hub/test/mcp/support/serve-fake.ts`.
 */
import { ADMIN_KEY, fakeServices } from './fake-services.js';
import { startHub } from './harness.js';

const hub = await startHub(fakeServices());
console.log(JSON.stringify({ url: `${hub.url}/mcp`, key: ADMIN_KEY }));
