/** A search result's title and excerpt as the API marked them (`<mark>` around
 * each matched word): its `SearchHighlights`. */
export type Highlights = { title: string; excerpt?: string | null };

export function Marked({ html }: { html: string }) {
  // Safe to insert as HTML: the API escapes the whole text and adds only <mark> and
  // </mark> (SearchHighlights in api/schema/search.py); nothing else reaches here.
  return <span dangerouslySetInnerHTML={{ __html: html }} />;
}
