#!/usr/bin/env bash
# Bounded libFuzzer run over raw decoding, profile parsing, .cube LUTs, DNG camera profiles, XMP ratings, TIFF and JPEG reading or Emulsion's own PNG coder (issue 7).
# Usage: .ci/fuzz.sh raw|profile|cube|hald|dcp|xmp|tiff|jpeg|png [SECONDS]   — findings land in fuzz-findings/ (git-ignored);
# LibRaw leaks libjpeg state on some error paths (found by this harness), so leak detection is
# off: leaks there are not ours to fix and would stop every run.
# replay one with: EMULSION_FUZZ_TARGET=raw .build/debug/EmulsionFuzz fuzz-findings/crash-…
# A hang inside LibRaw leaves fuzz-findings/timeout-… and exit 70 but no report in the log: while LibRaw runs,
# stderr points at DecoderMessages' capture file, where libFuzzer's timeout report goes. The artifact is the record.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-raw}"; seconds="${2:-60}"
if [ "$target" = png ]; then
  # pngsegments.c (filters, fast Huffman coder, segment joins) round-tripped through zlib and
  # libpng; plain C, so clang instruments the coder itself (ASan + UBSan + coverage).
  # replay a finding: .build-fuzz/pngsegments_fuzz fuzz-findings/crash-…  (-DREPLAY builds it without libFuzzer)
  mkdir -p .build-fuzz fuzz-findings
  clang -g -O1 -fuse-ld=lld -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I Sources/CPNGShim/include Tests/FuzzPNG/pngsegments_fuzz.c Sources/CPNGShim/pngsegments.c Sources/CPNGShim/pngshim.c \
    $(pkg-config --cflags --libs libpng16 zlib) -o .build-fuzz/pngsegments_fuzz
  corpus=$(mktemp -d)
  # Seeds: 16-bit RGB with each filter (the fuzzer mutates the parameter bytes too), and one
  # image of one segment past the coder's 512 KiB block size.
  for f in 0 1 2 3 4; do
    { printf "\\x$(printf %02x $((3 + 4 * f)))\\x00\\x3f\\x07\\x00"; head -c 2000 /dev/urandom; } > "$corpus/s$f"
  done
  { printf '\x0b\x00\xff\xff\xff'; head -c 16000 /dev/urandom; } > "$corpus/big"
  exec .build-fuzz/pngsegments_fuzz "$corpus" -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix=fuzz-findings/ -print_final_stats=1
fi
swift build -c release --product EmulsionFuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -gnone -Xswiftc -use-ld=lld -Xcc -g0
corpus=$(mktemp -d)
if [ "$target" = raw ]; then
  for f in apple-quicktake_100-test100.qtk kodak-dc50-sample.kdc lg-g4_h815-lossy_linear.dng canon-eos_6d-lossy_linear.dng; do
    [ -f "../shared/raw-samples/$f" ] && cp "../shared/raw-samples/$f" "$corpus/"
  done
  # Two 32×24 DNGs made by .ci/fuzz_seeds.py with FixVignetteRadial and WarpRectilinear or
  # WarpRectilinear2 in OpcodeList3, so the opcode readers are reached from the first run: no
  # sample is that small.
  python3 .ci/fuzz_seeds.py "$corpus"
elif [ "$target" = cube ]; then
  # Seeds: a small LUT in LF, CRLF and CR, with a title, a domain and unusual number forms.
  printf 'TITLE "t"\nLUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n' > "$corpus/lf.cube"
  printf '# c\r\nLUT_3D_SIZE 2\r\n0.5 +.25 1e-3\r\n1 0x1p-2 0\r\n0 1 0\r\n1 1 0\r\n0 0 1\r\n1 0 1\r\n0 1 1\r\n1 1 1\r\n' > "$corpus/crlf.cube"
  printf 'LUT_3D_INPUT_RANGE 0 2\rLUT_3D_SIZE 2\r-0 0 0\r1 0 0\r0 1 0\r1 1 0\r0 0 1\r1 0 1\r0 1 1\r1 1 1e-45\r' > "$corpus/cr.cube"
elif [ "$target" = hald ]; then
  # Seeds: ImageMagick's identity Hald CLUTs (levels 2 and 4, 8- and 16-bit), one with a comment.
  convert hald:2 -depth 8 "$corpus/h2.png"
  convert hald:4 -depth 16 -set comment "Input: srgb encoded RGB" "$corpus/h4.png"
elif [ "$target" = xmp ]; then
  # Seeds: darktable's attribute form, ExifTool's element form, a rejected one under another prefix.
  printf '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3" xmp:Label=""/></x:xmpmeta>' > "$corpus/dt.xmp"
  printf "<rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/'>\n <xmp:Rating>4</xmp:Rating>\n</rdf:Description>" > "$corpus/et.xmp"
  printf '<d xmlns:xap = "http://ns.adobe.com/xap/1.0/" myxap:Rating="1" xap:Rating= "-1.0"/>' > "$corpus/rej.xmp"
  # Colour labels: darktable's sequence, Lightroom's xmp:Label.
  printf '<d xmlns:darktable="http://darktable.sf.net/"><darktable:colorlabels><rdf:Seq><rdf:li>4</rdf:li><rdf:li>0</rdf:li></rdf:Seq></darktable:colorlabels></d>' > "$corpus/dtl.xmp"
  printf '<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Green"/>' > "$corpus/lr.xmp"
elif [ "$target" = tiff ]; then
  # Seeds: small images through ImageMagick's libtiff with each compression the reader takes,
  # both byte orders, 8 and 16 bits, a predictor, grey, alpha, several strips.
  i=0
  for options in "-compress None" "-compress LZW -define tiff:predictor=2" "-compress Zip -endian MSB" "-compress RLE -depth 8" \
                 "-compress LZW -define tiff:rows-per-strip=3 -alpha on" "-compress Zip -colorspace Gray"; do
    convert -size 12x9 plasma:fractal -depth 16 $options "$corpus/s$i.tif"; i=$((i + 1))
  done
elif [ "$target" = jpeg ]; then
  # Seeds: a golden image's 60 px crop (its ICC profile goes into APP2) baseline, progressive,
  # 4:2:0 with restart markers, grey.
  source=$(ls Tests/Golden/core/*/approved.png | head -1); i=0
  for options in "-quality 90" "-interlace JPEG" "-sampling-factor 2x2 -define jpeg:restart-interval=1" "-colorspace Gray"; do
    convert "$source" -crop 40x30+0+0 +repage $options "$corpus/s$i.jpg"; i=$((i + 1))
  done
elif [ "$target" = dcp ]; then
  # Seeds from RawTherapee's camera profiles (.ci/setup --tests installs them): the two smallest
  # (matrices only) and two of 10–300 KB (with hue/saturation tables).
  { ls -S /usr/share/rawtherapee/dcpprofiles/*.dcp | tail -2
    find /usr/share/rawtherapee/dcpprofiles -name '*.dcp' -size +10k -size -300k | sort | head -2; } 2>/dev/null |
    while read -r f; do cp "$f" "$corpus/"; done
else
  cp Profiles/*.json "$corpus/"
fi
mkdir -p fuzz-findings
# -detect_leaks=0 stops libFuzzer's checks between inputs; LeakSanitizer's own check at exit
# would still report LibRaw's libjpeg leak, write the empty input as a "crash" and fail the run.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" EMULSION_FUZZ_TARGET="$target" .build-fuzz/release/EmulsionFuzz "$corpus" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -max_len=4000000 -detect_leaks=0 -artifact_prefix=fuzz-findings/ -print_final_stats=1
