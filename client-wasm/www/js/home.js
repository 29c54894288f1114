// The instance's front page: where the organisation links come from, and the mailbox.
import { boot } from '/js/boot.js';
import { linkTo } from '/js/fragment.js';

if (await boot()) document.getElementById('home-case').href = linkTo('/case');
