/**
 * The rclnodejs adapter cannot run here (no ROS 2). What can be checked: it is the only module
 * that names rclnodejs, it loads it lazily, loading failures say what to do, and the distro
 * comes from $ROS_DISTRO.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRclnodejsGraph, distroFromEnv } from '../../src/ros/rclnodejsGraph.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const NAMES_RCLNODEJS = /(from\s+|import\s*\(\s*|require\s*\(\s*)['"]rclnodejs['"]/;

describe('ros/rclnodejsGraph', () => {
  it('is the only source file that imports rclnodejs, and only lazily', () => {
    const importers = tsFiles(join(REPO, 'src'))
      .filter((f) => /['"]rclnodejs['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO, f));
    assert.deepEqual(importers, ['src/ros/rclnodejsGraph.ts']);
    const text = readFileSync(join(REPO, 'src/ros/rclnodejsGraph.ts'), 'utf8');
    assert.doesNotMatch(text, /^import[^;]*['"]rclnodejs['"]/m, 'no static import');
    assert.match(text, /import\('rclnodejs' as string\)/);
    // The checker itself catches the forms it must catch.
    assert.ok(NAMES_RCLNODEJS.test(`import x from 'rclnodejs';`));
    assert.ok(NAMES_RCLNODEJS.test(`await import("rclnodejs")`));
  });

  it('no test imports rclnodejs', () => {
    const offenders = tsFiles(join(REPO, 'test')).filter((f) => NAMES_RCLNODEJS.test(readFileSync(f, 'utf8')) && !f.endsWith('rclnodejsGraph.test.ts'));
    assert.deepEqual(offenders.map((f) => relative(REPO, f)), []);
  });

  it('says what to do when rclnodejs cannot be loaded', async () => {
    await assert.rejects(
      createRclnodejsGraph({ load: () => Promise.reject(new Error("Cannot find package 'rclnodejs'")) }),
      (e: unknown) =>
        e instanceof Error &&
        e.message.includes("Cannot find package 'rclnodejs'") &&
        e.message.includes('source /opt/ros/<distro>/setup.bash') &&
        e.message.includes('npm install rclnodejs'),
    );
  });

  it('takes the message distro from $ROS_DISTRO when we have its definitions', () => {
    assert.equal(distroFromEnv({ ROS_DISTRO: 'humble' }), 'humble');
    assert.equal(distroFromEnv({ ROS_DISTRO: 'kilted' }), 'kilted');
    assert.equal(distroFromEnv({ ROS_DISTRO: 'foxy' }), undefined);
    assert.equal(distroFromEnv({}), undefined);
  });
});
