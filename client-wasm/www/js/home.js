// The instance's front page: where the organisation links come from, and the mailbox.
import { boot, linkTo } from '/js/common.js';

if (await boot()) document.getElementById('home-case').href = linkTo('/case');
