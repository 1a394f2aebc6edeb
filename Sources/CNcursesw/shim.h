// ncursesw for Swift. SwiftPM drops the -D flags from ncursesw.pc, so the wide-character API is switched
// on here; macros and mutable globals Swift cannot import are wrapped in inline functions.
#ifndef FLYWHEEL_CNCURSESW_SHIM_H
#define FLYWHEEL_CNCURSESW_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <curses.h>

static inline WINDOW *flywheel_nc_stdscr(void) { return stdscr; }
static inline int flywheel_nc_colors(void) { return COLORS; }
static inline int flywheel_nc_color_pairs(void) { return COLOR_PAIRS; }
static inline int flywheel_nc_max_y(void) { int y, x; getmaxyx(stdscr, y, x); (void)x; return y; }
static inline int flywheel_nc_max_x(void) { int y, x; getmaxyx(stdscr, y, x); (void)y; return x; }

static inline attr_t flywheel_nc_a_normal(void) { return A_NORMAL; }
static inline attr_t flywheel_nc_a_bold(void) { return A_BOLD; }
static inline attr_t flywheel_nc_a_underline(void) { return A_UNDERLINE; }
static inline attr_t flywheel_nc_a_reverse(void) { return A_REVERSE; }
static inline attr_t flywheel_nc_a_dim(void) { return A_DIM; }
static inline attr_t flywheel_nc_color_pair(int pair) { return (attr_t)COLOR_PAIR(pair); }
static inline int flywheel_nc_key_f(int n) { return KEY_F(n); }
/// glibc declares wcwidth only under _XOPEN_SOURCE, which Swift's Glibc module is not built with.
extern int wcwidth(wchar_t c);
static inline int flywheel_nc_wcwidth(wchar_t c) { return wcwidth(c); }
static inline int flywheel_nc_set_escdelay(int ms) { return set_escdelay(ms); }

/// newterm on the process's stdout/stdin: unlike initscr it returns NULL on failure instead of exiting.
static inline SCREEN *flywheel_nc_newterm(void) { return newterm(NULL, stdout, stdin); }

/// Writes one cell at (y, x): `text` is a base scalar plus combining marks, NUL-terminated. The pair is
/// passed as an int through setcchar's `opts` (ncurses >= 6.1 extended pairs), so pairs above 32767 work.
/// The bottom-right cell is inserted rather than added: adding there would move the cursor past the end
/// of the screen (scroll, or ERR).
static inline int flywheel_nc_put_cell(int y, int x, const wchar_t *text, attr_t attrs, int pair) {
    cchar_t cc;
    int extended = pair;
    if (setcchar(&cc, text, attrs, (NCURSES_PAIRS_T)(pair <= 0x7fff ? pair : 0), &extended) == ERR) return ERR;
    int maxy, maxx;
    getmaxyx(stdscr, maxy, maxx);
    if (y == maxy - 1 && x == maxx - 1) return mvins_wch(y, x, &cc);
    return mvadd_wch(y, x, &cc);
}
#endif
