// The pure pieces of the conversation features: which words of a search result are highlighted (as the engine's
// full-text search matches them: whole terms, the last as a prefix, case and accents folded), always as text
// pieces that put the whole text back together; the @mention at the caret and what picking a person inserts (the
// form the engine's mentionsIn finds); :shortcode: at the caret; and search results grouped by conversation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mentionsIn } from '../../../core/engine/inbound/payloads.ts';
import { highlight, snippet } from '../../../renderer/src/lib/highlight.ts';
import { insertMention, matchPeople, mentionAt, shortcodeAt } from '../../../renderer/src/lib/mentions.ts';
import { groupResults } from '../../../renderer/src/state/search.ts';
import type { MessageViewT } from '../../../core/api/contract.ts';

const marked = (text: string, query: string) => highlight(text, query).filter((p) => p.match).map((p) => p.text);

describe('renderer: search highlighting', () => {
  it('marks whole terms and the last term as a prefix, folding case and accents', () => {
    assert.deepEqual(marked('The Release checklist, and the releases', 'release check'), ['Release', 'checklist']);
    assert.deepEqual(marked('Café au lait', 'cafe'), ['Café']);
    assert.deepEqual(marked('catalogue cat', 'cat dog'), ['cat'], 'only the last term is a prefix');
  });

  it('gives back the whole text in pieces, markup included as text', () => {
    const text = 'where is the <b>checklist</b>?';
    const pieces = highlight(text, 'checklist');
    assert.equal(pieces.map((p) => p.text).join(''), text);
    assert.deepEqual(pieces.filter((p) => p.match).map((p) => p.text), ['checklist']);
    assert.deepEqual(highlight('anything', '  '), [{ text: 'anything', match: false }]);
  });

  it('cuts a long text around its first match', () => {
    const long = `${'x '.repeat(200)}needle ${'y '.repeat(200)}`;
    const cut = snippet(long, 'needle', 60);
    assert.ok(cut.includes('needle') && cut.startsWith('…') && cut.endsWith('…') && cut.length <= 62);
  });
});

describe('renderer: mentions and shortcodes while typing', () => {
  const people = [{ username: 'alice' }, { username: 'albert', displayName: 'Bert Smith' }, { username: 'bob', displayName: 'Robert Alder' }];

  it('finds the @word at the caret, not an e-mail address or a finished word', () => {
    assert.deepEqual(mentionAt('hi @al', 6), { start: 3, query: 'al' });
    assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' });
    assert.equal(mentionAt('mail ann@example', 16), null);
    assert.equal(mentionAt('hi @al there', 12), null);
  });

  it('lists usernames starting with the query first, then display names', () => {
    assert.deepEqual(matchPeople(people, 'al').map((p) => p.username), ['albert', 'alice', 'bob']);
    assert.deepEqual(matchPeople(people, 'smi').map((p) => p.username), ['albert']);
  });

  it('inserts @username, which the engine parses as a mention', () => {
    const typed = 'ping @al please';
    const done = insertMention(typed, 5, 8, 'alice');
    assert.equal(done.text, 'ping @alice please');
    assert.equal(done.caret, 'ping @alice '.length);
    assert.deepEqual(mentionsIn(done.text), ['alice']);
    assert.deepEqual(mentionsIn(insertMention('@b', 0, 2, 'bob').text), ['bob']);
  });

  it('finds :shortcode at the caret from two characters on', () => {
    assert.deepEqual(shortcodeAt('nice :th', 8), { start: 5, query: 'th' });
    assert.equal(shortcodeAt('nice :t', 7), null);
    assert.equal(shortcodeAt('10:30', 5), null, 'a time is no shortcode');
  });
});

describe('renderer: search results by conversation', () => {
  it('groups in the order each conversation\'s newest result came', () => {
    const m = (id: string, conversation: string) => ({ id, conversation }) as MessageViewT;
    assert.deepEqual(groupResults([m('1', 'c:a'), m('2', 'c:b'), m('3', 'c:a')]).map((g) => [g.conversation, g.messages.map((x) => x.id)]), [['c:a', ['1', '3']], ['c:b', ['2']]]);
  });
});
