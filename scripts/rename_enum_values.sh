#!/usr/bin/env bash
# API hygiene (issue 10, buf lint ENUM_VALUE_PREFIX): prefix every value of
# every enum in proto/grading/v1/grading.proto with its enum's name
# (SELLER -> FAULT_SELLER, WARNING -> RESTRICTION_KIND_WARNING, MONTH ->
# PERIOD_KIND_MONTH); wire numbers are unchanged. Rewrites the proto, the
# protobuf-c names used in C (GRADING__V1__FAULT__SELLER ->
# GRADING__V1__FAULT__FAULT_SELLER) and the JSON enum names in tests and
# docs. Idempotent: a value that already carries its prefix is left alone.
# Run from the repository root: scripts/rename_enum_values.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PROTO=proto/grading/v1/grading.proto

# "PREFIX OLD_NAME" for every value of every enum in the proto (renamed
# already or not, so that code merged later is fixed too; the zero values
# were always prefixed)
mapfile -t PAIRS < <(perl -ne '
    if (/^enum (\w+) \{/) { ($p = $1) =~ s/(?<=[a-z0-9])([A-Z])/_$1/g; $p = uc $p; next }
    if (defined $p && /^\}/) { undef $p; next }
    next unless defined $p && /^\s+([A-Z][A-Z0-9_]*)\s*=\s*\d+;/;
    ($v = $1) =~ s/^\Q$p\E_//;
    print "$p $v\n" unless $v eq "UNSPECIFIED";
' "$PROTO")
[ ${#PAIRS[@]} -eq 0 ] && { echo "rename_enum_values: no enum values in $PROTO"; exit 1; }

# 1. the proto: prefix inside each enum block
perl -i -pe '
    if (/^enum (\w+) \{/) { ($p = $1) =~ s/(?<=[a-z0-9])([A-Z])/_$1/g; $p = uc $p }
    elsif (/^\}/) { undef $p }
    elsif (defined $p) { s/^(\s+)(?!\Q$p\E_)([A-Z][A-Z0-9_]*)(\s*=)/$1${p}_$2$3/ }
' "$PROTO"

# 2. C: the generated constants
ENUMS=$(printf '%s\n' "${PAIRS[@]}" | cut -d' ' -f1 | sort -u | paste -sd'|')
mapfile -t CFILES < <(git ls-files '*.c' '*.h')
perl -i -pe "s/\bGRADING__V1__($ENUMS)__(?!\1_)([A-Z][A-Z0-9_]*)/GRADING__V1__\$1__\$1_\$2/g" "${CFILES[@]}"

# 3. JSON enum names (as written in C strings, JSONL and docs): a quoted
#    old name after the field that holds it
mapfile -t TFILES < <(git ls-files '*.c' '*.h' '*.md' '*.jsonl' '*.json' '*.yaml')
for pair in "${PAIRS[@]}"; do
    prefix=${pair% *}
    value=${pair#* }
    case $prefix in
    FAULT) fields='fault|enum_value|rep_enum' ;;   # the last two: test_pbjson's test message
    CANCEL_REASON) fields='reason' ;;
    RECOMMENDATION) fields='recommendation' ;;
    RESTRICTION_KIND) fields='kind|restriction|restrictions' ;;
    PERIOD_KIND) fields='kind|period_kind' ;;
    *) fields='' ;;
    esac
    [ -z "$fields" ] && continue
    perl -i -pe "s/((?:\\\\?\")(?:$fields)(?:\\\\?\")\\s*:\\s*(?:\\[\\s*)?(?:\\\\?\"[A-Z_]+\\\\?\",\\s*)*\\\\?\")$value(\\\\?\")/\$1${prefix}_$value\$2/g" "${TFILES[@]}"
    # and a test reading it back: json_object_get(j, "fault")), "SELLER"
    perl -i -pe "s/(\"(?:$fields)\"\\)(?:, \\d+\\))?\\), \")$value\"/\$1${prefix}_$value\"/g" "${TFILES[@]}"
done
# the list of names an unknown enum name's error shows (test_pbjson)
perl -i -pe 's/"SELLER, BUYER"/"FAULT_SELLER, FAULT_BUYER"/g' "${TFILES[@]}"
echo "rename_enum_values: ${#PAIRS[@]} values prefixed: $(printf '%s\n' "${PAIRS[@]}" | tr ' ' _ | paste -sd' ')"
