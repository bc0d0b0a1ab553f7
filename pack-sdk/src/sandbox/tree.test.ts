import { mkdirSync, mkdtempSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkGrantedTrees, dependencyTree, packageEntry } from './tree.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function pkg(dir: string, manifest: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
}

function prefix(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-tree-'));
  dirs.push(root);
  return root;
}

describe('granted tree of a pack', () => {
  it('collects the dependencies Node would resolve, nested copies first', () => {
    const root = prefix();
    const modules = path.join(root, 'node_modules');
    const pack = pkg(path.join(modules, 'my-pack'), {
      name: 'my-pack',
      peerDependencies: { '@sonde/pack-sdk': '*' },
      dependencies: { lib: '1' },
    });
    pkg(path.join(modules, '@sonde/pack-sdk'), {
      name: '@sonde/pack-sdk',
      exports: { '.': { types: './x.d.ts', default: './dist/index.js' } },
      dependencies: { zod: '4' },
    });
    pkg(path.join(modules, 'zod'), { name: 'zod' });
    pkg(path.join(pack, 'node_modules/lib'), { name: 'lib' });
    pkg(path.join(modules, 'lib'), { name: 'lib' });
    pkg(path.join(modules, 'unrelated'), { name: 'unrelated' });
    const tree = dependencyTree(pack, root);
    expect(tree.dirs).toEqual(
      [path.join(modules, '@sonde/pack-sdk'), path.join(pack, 'node_modules/lib'), path.join(modules, 'zod')].sort(),
    );
    expect(packageEntry(tree.packSdkDir!)).toBe(path.join(modules, '@sonde/pack-sdk/dist/index.js'));
  });

  it('flags links that leave the grant, dangling links and hard links; allows links inside', () => {
    const root = prefix();
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    mkdirSync(path.join(a, 'sub'), { recursive: true });
    mkdirSync(b);
    writeFileSync(path.join(b, 'file.js'), '');
    writeFileSync(path.join(root, 'outside'), '');
    symlinkSync(path.join(b, 'file.js'), path.join(a, 'to-b'));
    symlinkSync('../../outside', path.join(a, 'sub/relative-out'));
    symlinkSync('/nowhere/at/all', path.join(a, 'dangling'));
    linkSync(path.join(root, 'outside'), path.join(a, 'hard'));
    const reasons = Object.fromEntries(checkGrantedTrees([a, b]).map((v) => [path.relative(a, v.path), v.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['dangling', 'hard', 'sub/relative-out']);
    expect(reasons['sub/relative-out']).toContain('outside the pack');
  });
});
