// A message's text as parsed markdown, built into React elements from markdown-it's tokens: never HTML (markdown-it
// runs with html off, and nothing here sets innerHTML), no images (nothing loads from elsewhere), only http(s) and
// mailto links, each showing the host it really goes to.
import MarkdownIt from 'markdown-it';
import { Fragment, memo, type ReactNode } from 'react';
import { SafeLink } from './SafeLink.tsx';

const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image', 'heading', 'lheading', 'table', 'hr', 'reference', 'html_block', 'html_inline']);

type Token = ReturnType<typeof md.parse>[number];

interface Tree {
  tree: true;
  token?: Token;
  children: (Tree | Token)[];
}

const isTree = (node: Tree | Token): node is Tree => 'tree' in node;

/** markdown-it's flat open/close stream as a tree. */
function treeOf(tokens: Token[]): Tree {
  const root: Tree = { tree: true, children: [] };
  const stack = [root];
  for (const token of tokens) {
    const top = stack.at(-1)!;
    if (token.nesting === 1) {
      const node: Tree = { tree: true, token, children: [] };
      top.children.push(node);
      stack.push(node);
    } else if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else if (token.type === 'inline') {
      top.children.push(treeOf(token.children ?? []));
    } else {
      top.children.push(token);
    }
  }
  return root;
}

const textOf = (tree: Tree): string => tree.children.map((c) => (isTree(c) ? textOf(c) : c.content)).join('');

/** The href a link may have: http(s) or mailto, absolute. */
export function safeUrl(href: string): URL | null {
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:' ? url : null;
  } catch {
    return null;
  }
}

function Link({ tree, mentions }: { tree: Tree; mentions: readonly string[] }) {
  const href = String(tree.token!.attrGet('href') ?? '');
  const inner = renderChildren(tree, mentions);
  const url = safeUrl(href);
  if (url?.protocol === 'mailto:') {
    const text = textOf(tree);
    return <><a href={url.href} title={url.href}>{inner}</a>{text.toLowerCase() !== url.pathname.toLowerCase() && <span className="link-host"> ({url.pathname})</span>}</>;
  }
  return <SafeLink href={href} text={textOf(tree)}>{inner}</SafeLink>;
}

const MENTION = /(@[a-z0-9][a-z0-9._-]{1,31})/;

function Text({ text, mentions }: { text: string; mentions: readonly string[] }) {
  if (mentions.length === 0 || !text.includes('@')) return <>{text}</>;
  return (
    <>
      {text.split(MENTION).map((part, i) => (i % 2 === 1 && mentions.includes(part.slice(1)) ? <span key={i} className="mention">{part}</span> : part))}
    </>
  );
}

const TAGS: Record<string, 'p' | 'strong' | 'em' | 's' | 'ul' | 'ol' | 'li' | 'blockquote'> = {
  paragraph_open: 'p', strong_open: 'strong', em_open: 'em', s_open: 's', bullet_list_open: 'ul', ordered_list_open: 'ol', list_item_open: 'li', blockquote_open: 'blockquote',
};

function renderChildren(tree: Tree, mentions: readonly string[]): ReactNode[] {
  return tree.children.map((child, i) => <Fragment key={i}>{isTree(child) ? renderTree(child, mentions) : renderLeaf(child, mentions)}</Fragment>);
}

function renderTree(tree: Tree, mentions: readonly string[]): ReactNode {
  const token = tree.token;
  if (!token) return renderChildren(tree, mentions);
  if (token.type === 'link_open') return <Link tree={tree} mentions={mentions} />;
  const Tag = TAGS[token.type];
  // a tight list's paragraphs are hidden: their text goes straight into the item
  if (!Tag || token.hidden) return renderChildren(tree, mentions);
  const start = Tag === 'ol' ? Number(token.attrGet('start') ?? 1) : undefined;
  return <Tag {...(start !== undefined && start !== 1 ? { start } : {})}>{renderChildren(tree, mentions)}</Tag>;
}

function renderLeaf(token: Token, mentions: readonly string[]): ReactNode {
  switch (token.type) {
    case 'text': return <Text text={token.content} mentions={mentions} />;
    case 'code_inline': return <code>{token.content}</code>;
    case 'softbreak':
    case 'hardbreak': return <br />;
    case 'fence':
    case 'code_block': return <pre><code>{token.content.replace(/\n$/, '')}</code></pre>;
    default: return token.content ? <Text text={token.content} mentions={mentions} /> : null;
  }
}

/**
 * Parsed texts, the most recently used last: a virtualized row is mounted again each time it scrolls back into view,
 * and parsing is the costly part of showing it. Keyed by the text itself, so an edit is a new entry.
 */
const parsed = new Map<string, Tree>();
/** about the bounded history window's worth (state/history-window.ts): a parsed text weighs a few KB */
const PARSED_MAX = 400;

function parse(text: string): Tree {
  let tree = parsed.get(text);
  if (tree) parsed.delete(text);
  else tree = treeOf(md.parse(text, {}));
  parsed.set(text, tree);
  if (parsed.size > PARSED_MAX) parsed.delete(parsed.keys().next().value!);
  return tree;
}

export const MessageText = memo(function MessageText({ text, mentions }: { text: string; mentions: readonly string[] }) {
  return <div className="message-text" dir="auto">{renderTree(parse(text), mentions)}</div>;
});
