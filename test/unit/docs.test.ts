import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report.ts';
import type { Results } from '../../bench/results.ts';

/**
 * The docs a newcomer finds their way in: every relative link of every Markdown file the repository holds
 * reaches a file, and every #anchor a heading of it (GitHub's slugs), so moving or renaming a page or a
 * heading cannot strand a link. README stays a front page; docs/performance.md is the bench's own output.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const markdownFiles = execFileSync(
  'git',
  ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'],
  {
    cwd: root,
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter((file) => file && existsSync(path.join(root, file)));

const md = new MarkdownIt({ html: true });

interface Link {
  file: string;
  href: string;
  line: number;
}

function linksAndAnchors(file: string): { links: Link[]; anchors: Set<string> } {
  const tokens = md.parse(readFileSync(path.join(root, file), 'utf8'), {});
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  const links: Link[] = [];
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open') {
      const inline = tokens[i + 1];
      const text = (inline?.children ?? [])
        .filter((child) => child.type === 'text' || child.type === 'code_inline')
        .map((child) => child.content)
        .join('');
      anchors.add(slugger.slug(text));
    }
    for (const child of token.children ?? []) {
      const href = child.type === 'link_open' ? child.attrGet('href') : undefined;
      if (typeof href === 'string' && href) links.push({ file, href, line: (token.map?.[0] ?? 0) + 1 });
    }
  });
  return { links, anchors };
}

const parsed = new Map(markdownFiles.map((file) => [file, linksAndAnchors(file)]));

describe('docs', () => {
  it('finds the pages and their links', () => {
    expect(markdownFiles).toEqual(
      expect.arrayContaining(['README.md', 'docs/api.md', 'docs/performance.md']),
    );
    expect([...parsed.values()].flatMap((page) => page.links).length).toBeGreaterThan(50);
  });

  it('every relative link reaches a file, and every anchor a heading', () => {
    const broken: string[] = [];
    for (const { links } of parsed.values()) {
      for (const link of links) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.href)) continue; // https:, mailto:
        const [target = '', anchor] = link.href.split('#');
        const resolved =
          target === ''
            ? link.file
            : path.posix.normalize(path.posix.join(path.posix.dirname(link.file), target));
        const where = `${link.file}:${link.line} → ${link.href}`;
        if (!existsSync(path.join(root, resolved))) {
          broken.push(`${where}: no file ${resolved}`);
          continue;
        }
        if (anchor === undefined) continue;
        const anchors = statSync(path.join(root, resolved)).isFile()
          ? parsed.get(resolved)?.anchors
          : undefined;
        if (!anchors?.has(decodeURIComponent(anchor)))
          broken.push(`${where}: no heading #${anchor} in ${resolved}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('README is a front page: at most 250 lines, and it sends readers to every page of docs/', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    const linked = new Set(parsed.get('README.md')?.links.map((link) => link.href.split('#')[0]));
    for (const page of markdownFiles.filter((file) => file.startsWith('docs/')))
      expect(linked).toContain(page);
  });

  it('docs/performance.md is what bench/report.ts makes of bench/results.json', () => {
    const results = JSON.parse(readFileSync(path.join(root, 'bench/results.json'), 'utf8')) as Results;
    expect(readFileSync(path.join(root, 'docs/performance.md'), 'utf8')).toBe(renderMarkdown(results));
  });
});
