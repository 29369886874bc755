/**
 * Visual Genome object and attribute names (data/vg-*.txt: line i = id i), fetched once. A line
 * lists synonyms separated by commas ("multi colored,multi-colored,multicolored"): the page
 * shows the first.
 */
import attributesUrl from '../data/vg-attributes.txt?url';
import objectsUrl from '../data/vg-objects.txt?url';

export interface VgNames {
  objects: string[];
  attributes: string[];
}

let names: Promise<VgNames> | null = null;

async function lines(url: string): Promise<string[]> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
  return (await res.text()).split('\n').map((s) => s.split(',')[0].trim());
}

export function vgNames(): Promise<VgNames> {
  names ??= Promise.all([lines(objectsUrl), lines(attributesUrl)]).then(
    ([objects, attributes]) => ({ objects, attributes }),
  );
  return names;
}
