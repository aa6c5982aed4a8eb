// @ts-check
import { h } from '../ui.js';

/** @param {HTMLElement} root */
export function mount(root) {
  root.append(h('h1', {}, 'dashboard'));
}
