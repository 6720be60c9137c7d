// LibRaw keeps its parser's state in members of its C++ class; `get_internal_data_pointer()` is
// public and inline, so this reads it without linking anything. The C API's handle is the
// object's `imgdata`, whose `parent_class` points back to the object.
#include <libraw/libraw.h>
#include "libraw_peek.h"

extern "C" long long emulsion_libraw_meta_offset(const void *handle) {
    if (handle == nullptr) return 0;
    const libraw_data_t *data = static_cast<const libraw_data_t *>(handle);
    LibRaw *owner = static_cast<LibRaw *>(data->parent_class);
    if (owner == nullptr) return 0;
    return static_cast<long long>(owner->get_internal_data_pointer()->unpacker_data.meta_offset);
}
