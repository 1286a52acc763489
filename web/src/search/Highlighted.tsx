/** Marks the words of a text that a search query's words begin (the API stems
 * words, so "cameras" also finds "camera"). Excluded (-word) terms are not marked.
 * A client-side stand-in until search edges carry the API's highlights (issue 14:
 * src/live/README.md says what to switch on). */
export function Highlighted({ text, query }: { text: string; query: string }) {
  const terms = searchTerms(query);
  if (terms.length === 0) return <>{text}</>;
  const pattern = new RegExp(`\\b(${terms.map(escape).join("|")})\\w*`, "giu");
  const parts: React.ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index));
    parts.push(<mark key={match.index}>{match[0]}</mark>);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

export function searchTerms(query: string): string[] {
  return query
    .replaceAll('"', " ")
    .split(/\s+/)
    .filter((word) => word.length > 1 && !word.startsWith("-"))
    .map((word) => stem(word.toLowerCase()));
}

function stem(word: string): string {
  return word.length > 4 ? word.replace(/(ing|es|s|ed)$/u, "") : word;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&");
}
