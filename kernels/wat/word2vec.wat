;; One Word2Vec sentence (CBOW or skip-gram, negative sampling) with 128-bit SIMD: the same steps, in the same order,
;; with the same xorshift32 draws as cbowSentence / skipGramSentence in kernels/word2vec/kernel.ts, so both consume the
;; generator identically; sums are float32 here rather than float64, so vectors differ in the last bits.
;;
;; Memory layout (byte offsets, chosen by kernels/word2vec/wasm.ts and passed to $configure): syn0 and syn1neg hold one row
;; per word, `stride` floats apart, where stride is dim rounded up to a multiple of 4; the padding floats start and
;; stay zero (every update adds g·0), so whole 4-float vectors cover each row with no scalar tail.

(module
  (memory (export "memory") 1)

  (global $syn0 (mut i32) (i32.const 0))
  (global $syn1 (mut i32) (i32.const 0))
  (global $rowBytes (mut i32) (i32.const 0))
  (global $aliasProb (mut i32) (i32.const 0))
  (global $aliasIndex (mut i32) (i32.const 0))
  (global $vocab (mut i32) (i32.const 0))
  (global $expTable (mut i32) (i32.const 0))
  (global $neu1 (mut i32) (i32.const 0))
  (global $work (mut i32) (i32.const 0))
  (global $window (mut i32) (i32.const 0))
  (global $negative (mut i32) (i32.const 0))
  (global $shrink (mut i32) (i32.const 0))
  (global $cbowMean (mut i32) (i32.const 0))

  (func (export "configure")
    (param $syn0 i32) (param $syn1 i32) (param $rowBytes i32) (param $aliasProb i32) (param $aliasIndex i32)
    (param $vocab i32) (param $expTable i32) (param $neu1 i32) (param $work i32) (param $window i32)
    (param $negative i32) (param $shrink i32) (param $cbowMean i32)
    (global.set $syn0 (local.get $syn0))
    (global.set $syn1 (local.get $syn1))
    (global.set $rowBytes (local.get $rowBytes))
    (global.set $aliasProb (local.get $aliasProb))
    (global.set $aliasIndex (local.get $aliasIndex))
    (global.set $vocab (local.get $vocab))
    (global.set $expTable (local.get $expTable))
    (global.set $neu1 (local.get $neu1))
    (global.set $work (local.get $work))
    (global.set $window (local.get $window))
    (global.set $negative (local.get $negative))
    (global.set $shrink (local.get $shrink))
    (global.set $cbowMean (local.get $cbowMean)))

  ;; xorshift32, as inlined in kernels/word2vec/kernel.ts.
  (func $next (param $r i32) (result i32)
    (local.set $r (i32.xor (local.get $r) (i32.shl (local.get $r) (i32.const 13))))
    (local.set $r (i32.xor (local.get $r) (i32.shr_u (local.get $r) (i32.const 17))))
    (i32.xor (local.get $r) (i32.shl (local.get $r) (i32.const 5))))

  ;; floor(u · k / 2^32) for unsigned u: the kernel's `((u >>> 0) * (k / 2^32)) | 0`, which is exact in float64.
  (func $below (param $u i32) (param $k i32) (result i32)
    (i32.wrap_i64
      (i64.shr_u
        (i64.mul (i64.extend_i32_u (local.get $u)) (i64.extend_i32_u (local.get $k)))
        (i64.const 32))))

  ;; A negative sample from the alias table; advances the generator twice (column, then coin) through $rnd.
  (global $rnd (mut i32) (i32.const 1))
  (func $negativeSample (result i32)
    (local $col i32)
    (global.set $rnd (call $next (global.get $rnd)))
    (local.set $col (call $below (global.get $rnd) (global.get $vocab)))
    (global.set $rnd (call $next (global.get $rnd)))
    (if (result i32)
      (i32.lt_u (global.get $rnd) (i32.load (i32.add (global.get $aliasProb) (i32.shl (local.get $col) (i32.const 2)))))
      (then (local.get $col))
      (else (i32.load (i32.add (global.get $aliasIndex) (i32.shl (local.get $col) (i32.const 2)))))))

  (func $row0 (param $word i32) (result i32)
    (i32.add (global.get $syn0) (i32.mul (local.get $word) (global.get $rowBytes))))

  (func $row1 (param $word i32) (result i32)
    (i32.add (global.get $syn1) (i32.mul (local.get $word) (global.get $rowBytes))))

  (func $wordAt (param $sen i32) (param $i i32) (result i32)
    (i32.load (i32.add (local.get $sen) (i32.shl (local.get $i) (i32.const 2)))))

  ;; sum(a · b) over one row, two accumulators so consecutive adds do not wait on each other.
  (func $dot (param $a i32) (param $b i32) (result f32)
    (local $end i32) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.add (local.get $a) (global.get $rowBytes)))
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_u (i32.add (local.get $a) (i32.const 32)) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1)
          (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $pairs)))
    (if (i32.lt_u (local.get $a) (local.get $end))
      (then
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))))
    (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
      (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))

  ;; y += g · x over one row.
  (func $axpy (param $g f32) (param $x i32) (param $y i32)
    (local $end i32) (local $gv v128)
    (local.set $gv (f32x4.splat (local.get $g)))
    (local.set $end (i32.add (local.get $x) (global.get $rowBytes)))
    (loop $each
      (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $gv) (v128.load (local.get $x)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br_if $each (i32.lt_u (local.get $x) (local.get $end)))))

  ;; x *= g over one row.
  (func $scale (param $g f32) (param $x i32)
    (local $end i32) (local $gv v128)
    (local.set $gv (f32x4.splat (local.get $g)))
    (local.set $end (i32.add (local.get $x) (global.get $rowBytes)))
    (loop $each
      (v128.store (local.get $x) (f32x4.mul (local.get $gv) (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br_if $each (i32.lt_u (local.get $x) (local.get $end)))))

  (func $zero (param $x i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (global.get $rowBytes)))
    (loop $each
      (v128.store (local.get $x) (v128.const i32x4 0 0 0 0))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br_if $each (i32.lt_u (local.get $x) (local.get $end)))))

  ;; work += g · syn1[row]; syn1[row] += g · l1, reading syn1 before it changes (gensim's order).
  (func $updatePair (param $g f32) (param $l1 i32) (param $row i32)
    (local $end i32) (local $gv v128) (local $a v128) (local $w i32)
    (local.set $gv (f32x4.splat (local.get $g)))
    (local.set $w (global.get $work))
    (local.set $end (i32.add (local.get $l1) (global.get $rowBytes)))
    (loop $each
      (local.set $a (v128.load (local.get $row)))
      (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w)) (f32x4.mul (local.get $gv) (local.get $a))))
      (v128.store (local.get $row) (f32x4.add (local.get $a) (f32x4.mul (local.get $gv) (v128.load (local.get $l1)))))
      (local.set $l1 (i32.add (local.get $l1) (i32.const 16)))
      (local.set $row (i32.add (local.get $row) (i32.const 16)))
      (local.set $w (i32.add (local.get $w) (i32.const 16)))
      (br_if $each (i32.lt_u (local.get $l1) (local.get $end)))))

  ;; The negative-sampling step for one input vector l1 against `word` and `negative` drawn words: gradients into
  ;; $work, output vectors updated in place. Dot products beyond ±6 are skipped, as gensim does.
  (func $train (param $l1 i32) (param $word i32) (param $alpha f32)
    (local $d i32) (local $target i32) (local $label f32) (local $f f32) (local $g f32)
    (call $zero (global.get $work))
    (loop $each
      (block $skip
        (local.set $target (local.get $word))
        (local.set $label (f32.const 1))
        (if (local.get $d)
          (then
            (local.set $target (call $negativeSample))
            (br_if $skip (i32.eq (local.get $target) (local.get $word)))
            (local.set $label (f32.const 0))))
        (local.set $f (call $dot (local.get $l1) (call $row1 (local.get $target))))
        (br_if $skip (f32.le (local.get $f) (f32.const -6)))
        (br_if $skip (f32.ge (local.get $f) (f32.const 6)))
        (local.set $g
          (f32.mul
            (f32.sub (local.get $label) (f32.load (i32.add (global.get $expTable) (i32.shl
              (i32.trunc_f64_s (f64.mul (f64.add (f64.promote_f32 (local.get $f)) (f64.const 6)) (f64.const 83.33333333333333)))
              (i32.const 2)))))
            (local.get $alpha)))
        (call $updatePair (local.get $g) (local.get $l1) (call $row1 (local.get $target))))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (br_if $each (i32.le_s (local.get $d) (global.get $negative)))))

  ;; The window around position i: [start, end) after a random shrink b in [0, window). Returns start; end via $end.
  (global $end (mut i32) (i32.const 0))
  (func $windowStart (param $i i32) (param $n i32) (result i32)
    (local $b i32) (local $start i32)
    (if (global.get $shrink)
      (then
        (global.set $rnd (call $next (global.get $rnd)))
        (local.set $b (call $below (global.get $rnd) (global.get $window)))))
    (local.set $start (i32.add (i32.sub (local.get $i) (global.get $window)) (local.get $b)))
    (global.set $end (i32.sub (i32.add (i32.add (local.get $i) (global.get $window)) (i32.const 1)) (local.get $b)))
    (if (i32.gt_s (global.get $end) (local.get $n)) (then (global.set $end (local.get $n))))
    (select (i32.const 0) (local.get $start) (i32.lt_s (local.get $start) (i32.const 0))))

  ;; One CBOW pass over sen[0..n) (i32 word indices at byte offset $sen); returns the generator state.
  (func (export "cbow") (param $sen i32) (param $n i32) (param $alpha f32) (param $rnd i32) (result i32)
    (local $i i32) (local $start i32) (local $m i32) (local $count i32) (local $inverse f32)
    (global.set $rnd (local.get $rnd))
    (block $sentence
      (loop $each
        (br_if $sentence (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $start (call $windowStart (local.get $i) (local.get $n)))
        (call $zero (global.get $neu1))
        (local.set $count (i32.const 0))
        (local.set $m (local.get $start))
        (block $done
          (loop $context
            (br_if $done (i32.ge_s (local.get $m) (global.get $end)))
            (if (i32.ne (local.get $m) (local.get $i))
              (then
                (call $axpy (f32.const 1) (call $row0 (call $wordAt (local.get $sen) (local.get $m))) (global.get $neu1))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $context)))
        (if (local.get $count)
          (then
            ;; cbow_mean averages the context but (as gensim and the C tool do) applies the full error to each word.
            (local.set $inverse (f32.div (f32.const 1) (f32.convert_i32_s (local.get $count))))
            (if (global.get $cbowMean) (then (call $scale (local.get $inverse) (global.get $neu1))))
            (call $train (global.get $neu1) (call $wordAt (local.get $sen) (local.get $i)) (local.get $alpha))
            (if (i32.eqz (global.get $cbowMean)) (then (call $scale (local.get $inverse) (global.get $work))))
            (local.set $m (local.get $start))
            (block $done
              (loop $context
                (br_if $done (i32.ge_s (local.get $m) (global.get $end)))
                (if (i32.ne (local.get $m) (local.get $i))
                  (then
                    (call $axpy (f32.const 1) (global.get $work)
                      (call $row0 (call $wordAt (local.get $sen) (local.get $m))))))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))
                (br $context)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (global.get $rnd))

  ;; One skip-gram pass: each context word's input vector learns to predict the centre word.
  (func (export "skipGram") (param $sen i32) (param $n i32) (param $alpha f32) (param $rnd i32) (result i32)
    (local $i i32) (local $m i32) (local $l1 i32)
    (global.set $rnd (local.get $rnd))
    (block $sentence
      (loop $each
        (br_if $sentence (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $m (call $windowStart (local.get $i) (local.get $n)))
        (block $done
          (loop $context
            (br_if $done (i32.ge_s (local.get $m) (global.get $end)))
            (if (i32.ne (local.get $m) (local.get $i))
              (then
                (local.set $l1 (call $row0 (call $wordAt (local.get $sen) (local.get $m))))
                (call $train (local.get $l1) (call $wordAt (local.get $sen) (local.get $i)) (local.get $alpha))
                (call $axpy (f32.const 1) (global.get $work) (local.get $l1))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $context)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (global.get $rnd)))
