// The renderer's entry: one bridge, one feed into the stores, one React root.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { bridge } from './bridge/index.ts';
import { startFeed } from './state/feed.ts';
import './styles.css';

function NoToken() {
  return (
    <main className="onboarding">
      <section className="card">
        <h1>Open Wardroom from its own link</h1>
        <p>
          This page needs the address <code>npm start</code> printed, which ends with <code>#token=…</code>. The token
          proves the page was opened by you, so other web pages cannot talk to your Wardroom.
        </p>
      </section>
    </main>
  );
}

const root = createRoot(document.getElementById('root')!);
if (bridge) {
  startFeed(bridge);
  root.render(<StrictMode><App /></StrictMode>);
} else {
  root.render(<NoToken />);
}
