import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Which code was measured: the commit, and any uncommitted change to what the bundles are built from. */
export interface Source {
  commit: string | undefined;
  uncommitted: string[];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const git = (...args: string[]) => {
  const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
};

export function describeSource(): Source {
  const status = git('status', '--porcelain', '--', 'functions', 'lib', 'infra', 'package-lock.json');
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommitted: status ? status.split('\n').map((line) => line.slice(3)) : [],
  };
}
