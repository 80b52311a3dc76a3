#!/usr/bin/env bash
# The code a capture runs sits together in .text.capture, ahead of what a capture never runs
# (dumpfilter/capture_path.ld, issue 20: max RSS counts the text mapped 64 KiB around each page
# executed). The script names objects as meson builds them, so a file renamed or moved would
# quietly fall out of the section: this checks functions of every stage of the capture path
# inside it and functions of other commands outside. Meson sets KK_CAPTURE_LAYOUT=1 where it
# links with the script (GNU ld).
source "$(dirname "$0")/lib.sh"
[ "${KK_CAPTURE_LAYOUT:-0}" = 1 ] || it_skip "dumpfilter is not linked with capture_path.ld (not GNU ld)"
sections=$(readelf -SW "$DUMPFILTER" | sed -n 's/^ *\[ *[0-9]*\] *//p')
read -r start size < <(awk '$1 == ".text.capture" {print $3, $5}' <<<"$sections") ||
  it_fail "$DUMPFILTER has no .text.capture section"
text_size=$(awk '$1 == ".text" {print $5}' <<<"$sections")
echo ".text.capture: $((16#$size)) bytes; .text after it: $((16#$text_size)) bytes"
[ $((16#$size)) -ge $((64 * 1024)) ] || it_fail ".text.capture holds only $((16#$size)) bytes"

syms=$(nm -C --defined-only "$DUMPFILTER" | grep -v '\[clone \.cold\]')
# where NAME( lies: inside or outside
where() {
  local addr
  addr=$(awk -v n="$1(" 'index($0, n) == 20 && ($2 == "T" || $2 == "t") {print $1; exit}' <<<"$syms")
  [ -n "$addr" ] || it_fail "no symbol $1 in $DUMPFILTER"
  if [ $((16#$addr)) -ge $((16#$start)) ] && [ $((16#$addr)) -lt $((16#$start + 16#$size)) ]; then
    echo inside
  else
    echo outside
  fi
}
# Options, opening the vmcore, vmcoreinfo, pass 1 (mem_map, page classes, selection), pass 2
# (pipeline, codec, writer), the manifest and the summary's progress.
for f in kk::parse_cli kk::run_dump kk::open_dump_source kk::open_dump_input kk::Vmcoreinfo::parse \
         kk::PageSelector::select kk::PageClassifier::classify kk::page_is_zero kk::run_page_pipeline \
         kk::make_codec kk::DiskdumpWriter::add_page kk::DiskdumpWriter::page_space kk::publish_dump; do
  [ "$(where "$f")" = inside ] || it_fail "$f is outside .text.capture: update dumpfilter/capture_path.ld"
done
for f in kk::run_reassemble kk::ElfWriter::add_page kk::build_report kk::parse_filter_config \
         kk::KdumpInput::open kk::rearrange_flattened; do
  [ "$(where "$f")" = outside ] || it_fail "$f, which a capture does not run, is inside .text.capture"
done
echo "capture path inside .text.capture, other commands outside"
