import { render } from 'preact';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  // The static "Loading…" placeholder goes; render() adds to what is there.
  root.textContent = '';
  render(<App />, root);
}
