import Emulsion
