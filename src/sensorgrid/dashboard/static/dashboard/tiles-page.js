// Entry of the site, room and public pages: live tiles only.
import { bindTiles } from "./tiles.js";

bindTiles().connect();
