import { definePack } from '@sonde/pack-sdk';
import { probe } from './probe.js';

export default definePack({
  name: '{{packName}}',
  // No version here: package.json's is the pack's (`npm run build` writes it into sonde-pack.json).
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
