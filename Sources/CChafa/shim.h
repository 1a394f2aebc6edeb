// libchafa for Swift. chafa.h includes glib.h, so this target uses `pkgConfig: "chafa"` for the glib
// include paths (Debian 12's libchafa-dev does not depend on libglib2.0-dev: install both).
#ifndef FLYWHEEL_CCHAFA_SHIM_H
#define FLYWHEEL_CCHAFA_SHIM_H
#include <chafa.h>
#endif
