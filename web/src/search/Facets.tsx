import { useQuery } from "@apollo/client/react";
import { graphql } from "../gql";

export const SEARCH_FACETS = graphql(`
  query SearchFacets {
    topics(first: 30) {
      nodes {
        id
        name
      }
    }
    providers(first: 30) {
      nodes {
        id
        name
        domain
      }
    }
  }
`);

export type Facet = "topic" | "provider";

type Props = {
  topic: string;
  provider: string;
  onChange: (facet: Facet, value: string) => void;
};

/** The search's filters: the largest topics and providers to pick from. */
export function Facets({ topic, provider, onChange }: Props) {
  const { data } = useQuery(SEARCH_FACETS);
  const topics = data?.topics.nodes.map((t) => ({ value: t.name, label: t.name })) ?? [];
  const providers = data?.providers.nodes.map((p) => ({ value: p.domain, label: p.name })) ?? [];
  return (
    <div className="facets">
      <FacetSelect
        id="facet-topic"
        label="Topic"
        value={topic}
        options={topics}
        onChange={(v) => onChange("topic", v)}
      />
      <FacetSelect
        id="facet-provider"
        label="Provider"
        value={provider}
        options={providers}
        onChange={(v) => onChange("provider", v)}
      />
    </div>
  );
}

type SelectProps = {
  id: string;
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
};

function FacetSelect({ id, label, value, options, onChange }: SelectProps) {
  // A value from a shared URL that is not among the largest still shows as chosen.
  const listed = !value || options.some((option) => option.value === value);
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">any</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
        {!listed && <option value={value}>{value}</option>}
      </select>
    </>
  );
}
