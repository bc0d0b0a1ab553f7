import { definePack } from '@sonde/pack-sdk';
import { probe } from './probe.js';

export default definePack({
  name: '{{packName}}',
  // The published version is package.json's: `npm run build` writes it into sonde-pack.json.
  version: '0.1.0',
  description: 'Distribution and kernel of a host.',
  detect: { files: ['/etc/os-release'] },
  permissions: {
    // Each entry of `args` is one allowed argv, element by element: here exactly `uname -r`.
    commands: [{ binary: 'uname', args: [['-r']], description: 'kernel release' }],
    // /etc/os-release is a symlink to /usr/lib/os-release on most distributions: both the path and its target must be declared.
    files: ['/etc/os-release', '/usr/lib/os-release'],
  },
  probes: [probe],
});
