import { describe, expect, it } from 'vitest';
import { el, renderXml } from '#channels/xml.ts';

describe('answer XML', () => {
  it('escapes markup in text and attribute values, and leaves plain text as it is', () => {
    const node = el(
      'Speak',
      { voice: 'Polly."Joanna" & <co>', loop: 2, absent: undefined },
      'Tom & Jerry <b>',
      el('break', { time: '1s' }),
      'plain',
    );
    expect(renderXml(node)).toBe(
      '<Speak voice="Polly.&quot;Joanna&quot; &amp; &lt;co&gt;" loop="2">Tom &amp; Jerry &lt;b&gt;' +
        '<break time="1s"/>plain</Speak>',
    );
    // Text is escaped once: an entity typed by a person is spoken as typed.
    expect(renderXml('&amp; "quoted"')).toBe('&amp;amp; "quoted"');
  });
});
