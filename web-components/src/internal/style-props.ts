import { noChange } from 'lit';
import { Directive, directive, PartType, type AttributePart, type PartInfo } from 'lit/directive.js';

/**
 * Sets inline style properties through the CSSOM only, on the first render too.
 * Lit's `styleMap` writes a `style="…"` attribute on first render, which a
 * strict Content-Security-Policy without `'unsafe-inline'` for styles (the
 * hub's dashboard and embed pages) drops: every virtualised row then sat at
 * `top: 0`. `element.style.setProperty` is not subject to the policy. The keys
 * must stay the same between renders (nothing is removed).
 */
class StylePropsDirective extends Directive {
  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ATTRIBUTE || part.name !== 'style') throw new Error('styleProps belongs in a style attribute');
  }

  render(_styles: Readonly<Record<string, string>>): typeof noChange {
    return noChange;
  }

  override update(part: AttributePart, [styles]: [Readonly<Record<string, string>>]): typeof noChange {
    const style = part.element.style;
    for (const [name, value] of Object.entries(styles)) style.setProperty(name, value);
    return noChange;
  }
}

export const styleProps = directive(StylePropsDirective);
