/**
 * The regions drawn over the photo (SVG boxes) and listed beside it (buttons): Visual Genome
 * attribute + object names when a detector made them, the region number otherwise. Hovering or
 * focusing a box or its list entry highlights both; attention weights, when given, order the
 * list and label each entry with its share.
 */

/** One region as the page shows it: a box in image pixels and what the detector called it. */
export interface DemoRegion {
  /** x1, y1, x2, y2 in image pixels. */
  box: [number, number, number, number];
  /** Visual Genome object / attribute ids and names (data/vg-objects.txt, vg-attributes.txt). */
  objectId?: number;
  object?: string;
  attributeId?: number;
  attribute?: string;
  /** The detector's object probability. */
  score?: number;
}

const SVG = 'http://www.w3.org/2000/svg';

export function regionName(r: DemoRegion, index: number): string {
  const name = [r.attribute, r.object].filter(Boolean).join(' ');
  return name || `region ${index + 1}`;
}

export interface RegionView {
  /** Highlight one region (null: none). */
  highlight(index: number | null): void;
  /** Show attention weights (null: hide them, list in detector order). */
  setWeights(weights: Float32Array | null): void;
}

/**
 * Draw `regions` into `svg` (its viewBox = the image size) and `list`; returns the view that
 * highlights and re-orders them.
 */
export function renderRegions(
  svg: SVGSVGElement,
  list: HTMLOListElement,
  regions: readonly DemoRegion[],
  image: { width: number; height: number },
): RegionView {
  svg.setAttribute('viewBox', `0 0 ${image.width} ${image.height}`);
  svg.replaceChildren();
  list.replaceChildren();
  const rects: SVGRectElement[] = [];
  const items: HTMLLIElement[] = [];
  const weightText: HTMLSpanElement[] = [];
  let current: number | null = null;
  const highlight = (i: number | null) => {
    if (current !== null) {
      rects[current]?.classList.remove('hot');
      items[current]?.classList.remove('hot');
    }
    current = i;
    if (i !== null) {
      rects[i].classList.add('hot');
      items[i].classList.add('hot');
      svg.append(rects[i]); // on top
    }
  };
  regions.forEach((r, i) => {
    const [x1, y1, x2, y2] = r.box;
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(x1));
    rect.setAttribute('y', String(y1));
    rect.setAttribute('width', String(Math.max(0, x2 - x1)));
    rect.setAttribute('height', String(Math.max(0, y2 - y1)));
    rect.setAttribute('vector-effect', 'non-scaling-stroke');
    rect.dataset.index = String(i);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = regionName(r, i);
    rect.append(title);
    rect.addEventListener('pointerenter', () => highlight(i));
    rect.addEventListener('pointerleave', () => highlight(null));
    svg.append(rect);
    rects.push(rect);

    const li = document.createElement('li');
    li.dataset.testid = 'region';
    li.dataset.index = String(i);
    if (r.objectId !== undefined) li.dataset.objectId = String(r.objectId);
    if (r.attributeId !== undefined) li.dataset.attributeId = String(r.attributeId);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'region';
    const name = Object.assign(document.createElement('span'), {
      className: 'name',
      textContent: regionName(r, i),
    });
    const w = Object.assign(document.createElement('span'), { className: 'weight' });
    button.append(name, w);
    button.setAttribute(
      'aria-label',
      `${regionName(r, i)}, box ${Math.round(x1)},${Math.round(y1)} to ${Math.round(x2)},${Math.round(y2)}`,
    );
    button.addEventListener('focus', () => highlight(i));
    button.addEventListener('blur', () => highlight(null));
    button.addEventListener('pointerenter', () => highlight(i));
    button.addEventListener('pointerleave', () => highlight(null));
    li.append(button);
    list.append(li);
    items.push(li);
    weightText.push(w);
  });
  return {
    highlight,
    setWeights(weights) {
      const order = [...regions.keys()];
      if (weights) order.sort((a, b) => weights[b] - weights[a]);
      order.forEach((i) => {
        weightText[i].textContent = weights ? `${(100 * weights[i]).toFixed(1)} %` : '';
        list.append(items[i]);
      });
    },
  };
}
