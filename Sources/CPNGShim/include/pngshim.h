#pragma once
int emulsion_png_placeholder(void);
