import { describe, expect, it } from 'vitest';
import { contentIdOf, inlineSources } from '../web/src/screens/conversation/inline-images.js';

/** Which cid: image of an email shows which stored bytes (the agent app, issue #10; SECURITY E8). */
describe('inline images of an email', () => {
  const png = `data:image/png;base64,${'A'.repeat(100)}`;

  it('matches cid: URLs to Content-IDs case-blind, URL-decoded, with or without <>; other URLs are not cids', () => {
    expect(contentIdOf('cid:Part1.ABC@Example.com')).toBe('part1.abc@example.com');
    expect(contentIdOf(' CID:%3Cnote%40example.com%3E')).toBe('note@example.com');
    expect(contentIdOf('cid:bad%zz@x')).toBe('bad%zz@x');
    expect(contentIdOf('https://tracker.example/p.gif')).toBeNull();
    expect(contentIdOf(null)).toBeNull();
    expect(inlineSources(['cid:a@x', 'https://x.example/a.png', 'cid:unknown@x', null], { 'a@x': png })).toEqual([png, null, null, null]);
  });

  it('copies at most the budget of bytes into the document: 1,500 references to one 300 KB image stay bounded (E8)', () => {
    const big = `data:image/png;base64,${'A'.repeat(400_000)}`;
    const shown = inlineSources(
      Array.from({ length: 1500 }, () => 'cid:bomb@x'),
      { 'bomb@x': big },
    );
    const total = shown.reduce((n, s) => n + (s?.length ?? 0), 0);
    expect(total).toBeLessThanOrEqual(20_000_000);
    expect(shown.filter(Boolean).length).toBe(Math.floor(20_000_000 / big.length));
    // Small images still all show.
    expect(inlineSources(['cid:a@x', 'cid:a@x'], { 'a@x': png }, 1000)).toEqual([png, png]);
  });
});
