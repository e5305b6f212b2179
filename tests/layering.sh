#!/bin/bash
# The library's rooms: nothing under core/, model/ or plan/, and no model catalog entry, includes
# an engine or a file format (engines and formats depend on them, never the other way round).
root=${1:?usage: layering.sh SOURCE_ROOT}
status=0
for f in "$root"/include/vramfit/core/*.hpp "$root"/include/vramfit/core/detail/*.hpp \
         "$root"/include/vramfit/model/*.hpp "$root"/include/vramfit/plan/*.hpp \
         "$root"/include/vramfit/catalog/models.hpp; do
    [ -f "$f" ] || continue
    if grep -nE '#include "vramfit/(engines|formats)/' "$f"; then
        echo "layering: ${f#"$root"/} includes an engine or a format" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "layering: core/, model/, plan/ and the model catalog include no engine or format"
exit $status
