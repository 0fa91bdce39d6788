// The panel beside the conversation: a thread with its own composer, the channel's members, or search results.
// Escape closes it (when nothing inside it took the key first) and focus goes back to the conversation.
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { highlight, snippet } from '../lib/highlight.ts';
import { clockTime, dayLabel } from '../lib/time.ts';
import { jumpTo } from '../state/chat.ts';
import { threadScope } from '../state/compose.ts';
import { useContacts } from '../state/contacts.ts';
import { useConversations } from '../state/conversations.ts';
import { usePanel } from '../state/panel.ts';
import { groupResults, useSearch } from '../state/search.ts';
import type { Message } from '../state/types.ts';
import { Composer } from './Composer.tsx';
import { conversationLabel } from './ConversationItem.tsx';
import { MessageRow } from './MessageRow.tsx';

function Shell({ title, children }: { title: string; children: ReactNode }) {
  const close = usePanel((s) => s.close);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [title]);
  const closeAndReturn = () => {
    close();
    document.querySelector<HTMLElement>('#composer-input')?.focus();
  };
  return (
    <aside className="side-panel" aria-labelledby="side-panel-title" onKeyDown={(e) => { if (e.key === 'Escape' && !e.defaultPrevented) { e.preventDefault(); closeAndReturn(); } }}>
      <div className="side-panel-head">
        <h2 id="side-panel-title" ref={heading} tabIndex={-1}>{title}</h2>
        <button type="button" className="icon-button" aria-label={`Close ${title.toLowerCase()}`} onClick={closeAndReturn}>×</button>
      </div>
      {children}
    </aside>
  );
}

function ThreadPanel({ conversation, root }: { conversation: string; root: string }) {
  const thread = usePanel((s) => s.thread);
  const error = usePanel((s) => s.error);
  const name = useConversations((s) => (s.byId[conversation] ? conversationLabel(s.byId[conversation]!) : ''));
  const place = useMemo(() => ({ scope: threadScope(root), inThread: true }), [root]);
  const list = useRef<HTMLDivElement>(null);
  const count = thread?.replies.length ?? 0;
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [count]);
  return (
    <Shell title="Thread">
      {name && <p className="side-panel-sub">in {name}</p>}
      {error && <p className="error-line" role="alert">The thread could not be loaded: {error}</p>}
      {!thread && !error && <p className="hint" role="status">Loading the thread…</p>}
      {thread && (
        <div className="thread-messages" ref={list} role="log" aria-label="Messages in this thread" tabIndex={0}>
          <MessageRow message={thread.root} continued={false} place={place} />
          <div className="thread-count" role="separator" aria-label={`${count} ${count === 1 ? 'reply' : 'replies'}`}><span>{count} {count === 1 ? 'reply' : 'replies'}</span></div>
          {thread.hasOlder && <p className="hint">Older replies are not shown.</p>}
          {thread.replies.map((m) => <MessageRow key={m.id} message={m} continued={false} place={place} />)}
        </div>
      )}
      <Composer conversation={conversation} label={name} scope={threadScope(root)} threadRoot={root} />
    </Shell>
  );
}

const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', member: 'Member' } as const;

function MembersPanel({ conversation }: { conversation: string }) {
  const members = usePanel((s) => s.members);
  const error = usePanel((s) => s.error);
  const contacts = useContacts((s) => s.byUsername);
  return (
    <Shell title="Members">
      {error && <p className="error-line" role="alert">The members could not be loaded: {error}</p>}
      {!members && !error && <p className="hint" role="status">Loading the members…</p>}
      {members && (
        <ul className="member-list" aria-label={`${members.length} members`} data-conversation={conversation}>
          {members.map((m) => (
            <li key={m.username}>
              <span className="sender">{m.username}</span>
              {contacts[m.username]?.displayName && <span className="display-name">{contacts[m.username]!.displayName}</span>}
              <span className={`role role-${m.role}`}>{ROLE_NAMES[m.role]}</span>
            </li>
          ))}
        </ul>
      )}
    </Shell>
  );
}

/** The text with the words the search matched in <mark>: text pieces only, never HTML. */
export function Highlighted({ text, query }: { text: string; query: string }) {
  return <>{highlight(text, query).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}</>;
}

function Result({ message, query }: { message: Message; query: string }) {
  return (
    <li>
      <button type="button" className="search-result" onClick={() => void jumpTo(message.conversation, message.id, message.threadRoot)}>
        <span className="result-head"><span className="sender">{message.sender}</span> <time dateTime={message.sentAt}>{dayLabel(message.sentAt)} {clockTime(message.sentAt)}</time></span>
        <span className="result-text"><Highlighted text={snippet(message.text, query)} query={query} /></span>
      </button>
    </li>
  );
}

function SearchPanel() {
  const { query, results, loading, error } = useSearch();
  const byId = useConversations((s) => s.byId);
  const groups = useMemo(() => groupResults(results ?? []), [results]);
  return (
    <Shell title="Search results">
      <p className="side-panel-sub" role="status">
        {loading ? `Searching for “${query}”…` : results ? `${results.length} ${results.length === 1 ? 'message matches' : 'messages match'} “${query}”` : ''}
      </p>
      {error && <p className="error-line" role="alert">The search failed: {error}</p>}
      {results?.length === 0 && <p className="hint">Nothing found. Search looks for whole words, and the start of the last one.</p>}
      <div className="search-results">
        {groups.map((g) => {
          const name = byId[g.conversation] ? conversationLabel(byId[g.conversation]!) : 'a conversation no longer here';
          const headingId = `results-${g.conversation.replace(/\W/g, '-')}`;
          return (
            <section key={g.conversation} aria-labelledby={headingId}>
              <h3 id={headingId}>{name}</h3>
              <ul>{g.messages.map((m) => <Result key={m.id} message={m} query={query} />)}</ul>
            </section>
          );
        })}
      </div>
    </Shell>
  );
}

export function SidePanel() {
  const panel = usePanel((s) => s.panel);
  if (!panel) return null;
  if (panel.kind === 'thread') return <ThreadPanel key={panel.root} conversation={panel.conversation} root={panel.root} />;
  if (panel.kind === 'members') return <MembersPanel key={panel.conversation} conversation={panel.conversation} />;
  return <SearchPanel />;
}
