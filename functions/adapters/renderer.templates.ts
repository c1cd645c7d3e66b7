import type { Renderer } from '../core/ports/renderer.port.js';

/**
 * The templates, loaded on first use: most handlers never render, and React
 * is the largest thing in the bundle to evaluate at a cold start.
 */
export const templateRenderer: Renderer = {
  renderEmail: async (view) => (await import('../../templates/render.js')).renderEmail(view),
  renderLinkPage: async (view) => (await import('../../templates/render.js')).renderLinkPage(view),
};
