// The search box (Ctrl/Cmd+K or Ctrl/Cmd+F from anywhere): Enter searches every conversation, the results open in
// the side panel; Escape clears it.
import { useState } from 'react';
import { SEARCH_QUERY_MAX } from '../lib/limits.ts';
import { search } from '../state/chat.ts';

export function SearchBox() {
  const [query, setQuery] = useState('');
  return (
    <form role="search" aria-label="Messages" className="search-box" onSubmit={(e) => { e.preventDefault(); void search(query); }}>
      <label htmlFor="search-input" className="visually-hidden">Search messages</label>
      <input id="search-input" type="search" placeholder="Search messages (Ctrl+K)" value={query} maxLength={SEARCH_QUERY_MAX}
        onChange={(e) => setQuery(e.target.value)} onKeyDown={(e) => { if (e.key === 'Escape' && query) { e.preventDefault(); setQuery(''); } }} />
    </form>
  );
}
