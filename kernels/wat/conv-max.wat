;; Conv1D → ReLU → GlobalMaxPooling1D (conv-max.ts) after the conv itself, on the tfjs wasm backend's own heap (the
;; memory is imported), 4 floats at a time. Only each (sample, filter)'s winning position carries a gradient, so
;; instead of two matmuls over every position it adds one row of taps per winner. Arguments are byte offsets:
;;   x [B, W, C], wt the filter as [F, K, C], argmax and dy [B, F] (argmax as float32, −1 where ReLU clipped all),
;;   dx [B, W, C], dwt [F, K, C] (the filter gradient, transposed back by the caller), dbias [F].

(module
  (import "tfjs" "memory" (memory 1))

  (func (export "convMaxGrad")
    (param $x i32) (param $wt i32) (param $argmax i32) (param $dy i32) (param $dx i32) (param $dwt i32) (param $dbias i32)
    (param $B i32) (param $W i32) (param $C i32) (param $F i32) (param $K i32) (param $padLeft i32)
    (local $b i32) (local $f i32) (local $cell i32) (local $t i32) (local $g f32) (local $start i32) (local $k0 i32)
    (local $k1 i32) (local $count i32) (local $xAt i32) (local $wAt i32)
    (call $zero (local.get $dx) (i32.mul (i32.mul (local.get $B) (local.get $W)) (local.get $C)))
    (call $zero (local.get $dwt) (i32.mul (i32.mul (local.get $F) (local.get $K)) (local.get $C)))
    (call $zero (local.get $dbias) (local.get $F))
    (block $samplesDone
      (loop $eachSample
        (br_if $samplesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $f (i32.const 0))
        (block $filtersDone
          (loop $eachFilter
            (br_if $filtersDone (i32.ge_u (local.get $f) (local.get $F)))
            (local.set $cell (i32.shl (i32.add (i32.mul (local.get $b) (local.get $F)) (local.get $f)) (i32.const 2)))
            (local.set $t (i32.trunc_f32_s (f32.load (i32.add (local.get $argmax) (local.get $cell)))))
            (if (i32.ge_s (local.get $t) (i32.const 0))
              (then
                (local.set $g (f32.load (i32.add (local.get $dy) (local.get $cell))))
                (f32.store (i32.add (local.get $dbias) (i32.shl (local.get $f) (i32.const 2)))
                  (f32.add (f32.load (i32.add (local.get $dbias) (i32.shl (local.get $f) (i32.const 2)))) (local.get $g)))
                ;; Taps k in [k0, k1) read input positions start + k inside [0, W).
                (local.set $start (i32.sub (local.get $t) (local.get $padLeft)))
                (local.set $k0 (select (i32.sub (i32.const 0) (local.get $start)) (i32.const 0)
                  (i32.lt_s (local.get $start) (i32.const 0))))
                (local.set $k1 (i32.sub (local.get $W) (local.get $start)))
                (if (i32.gt_s (local.get $k1) (local.get $K)) (then (local.set $k1 (local.get $K))))
                (if (i32.gt_s (local.get $k1) (local.get $k0))
                  (then
                    (local.set $count (i32.mul (i32.sub (local.get $k1) (local.get $k0)) (local.get $C)))
                    (local.set $xAt (i32.shl (i32.mul (i32.add (i32.add (i32.mul (local.get $b) (local.get $W))
                      (local.get $start)) (local.get $k0)) (local.get $C)) (i32.const 2)))
                    (local.set $wAt (i32.shl (i32.mul (i32.add (i32.mul (local.get $f) (local.get $K)) (local.get $k0))
                      (local.get $C)) (i32.const 2)))
                    ;; dW[f, k, :] += g · x[b, start + k, :] and dx[b, start + k, :] += g · W[f, k, :]
                    (call $axpy (local.get $g) (i32.add (local.get $x) (local.get $xAt)) (i32.add (local.get $dwt) (local.get $wAt))
                      (local.get $count))
                    (call $axpy (local.get $g) (i32.add (local.get $wt) (local.get $wAt)) (i32.add (local.get $dx) (local.get $xAt))
                      (local.get $count))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $eachFilter)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachSample))))

  ;; The forward pass after the conv: y[b, f] = max over w of relu(z[b, w, f] + bias[f]) and argmax[b, f] the first
  ;; w reaching it (float32; −1 while y is 0), 4 filters at a time; F a multiple of 4. Bit-identical to biasReluMax
  ;; in conv-max.ts, which rounds z + bias to float32 before comparing, as this does.
  (func (export "biasReluMax") (param $z i32) (param $bias i32) (param $y i32) (param $argmax i32)
    (param $B i32) (param $W i32) (param $F i32)
    (local $b i32) (local $w i32) (local $f i32) (local $rowBytes i32) (local $out i32) (local $at i32)
    (local $position v128) (local $v v128) (local $best v128) (local $wins v128)
    (local.set $rowBytes (i32.shl (local.get $F) (i32.const 2)))
    (block $samplesDone
      (loop $eachSample
        (br_if $samplesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $out (i32.mul (local.get $b) (local.get $rowBytes)))
        (local.set $f (i32.const 0))
        (loop $init
          (v128.store (i32.add (i32.add (local.get $y) (local.get $out)) (local.get $f)) (f32x4.splat (f32.const 0)))
          (v128.store (i32.add (i32.add (local.get $argmax) (local.get $out)) (local.get $f)) (f32x4.splat (f32.const -1)))
          (local.set $f (i32.add (local.get $f) (i32.const 16)))
          (br_if $init (i32.lt_u (local.get $f) (local.get $rowBytes))))
        (local.set $w (i32.const 0))
        (block $positionsDone
          (loop $eachPosition
            (br_if $positionsDone (i32.ge_u (local.get $w) (local.get $W)))
            (local.set $position (f32x4.splat (f32.convert_i32_u (local.get $w))))
            (local.set $at (i32.add (local.get $z)
              (i32.mul (i32.add (i32.mul (local.get $b) (local.get $W)) (local.get $w)) (local.get $rowBytes))))
            (local.set $f (i32.const 0))
            (loop $eachFilters
              (local.set $v (f32x4.add (v128.load (i32.add (local.get $at) (local.get $f)))
                (v128.load (i32.add (local.get $bias) (local.get $f)))))
              (local.set $best (v128.load (i32.add (i32.add (local.get $y) (local.get $out)) (local.get $f))))
              (local.set $wins (f32x4.gt (local.get $v) (local.get $best)))
              (v128.store (i32.add (i32.add (local.get $y) (local.get $out)) (local.get $f))
                (v128.bitselect (local.get $v) (local.get $best) (local.get $wins)))
              (v128.store (i32.add (i32.add (local.get $argmax) (local.get $out)) (local.get $f))
                (v128.bitselect (local.get $position)
                  (v128.load (i32.add (i32.add (local.get $argmax) (local.get $out)) (local.get $f))) (local.get $wins)))
              (local.set $f (i32.add (local.get $f) (i32.const 16)))
              (br_if $eachFilters (i32.lt_u (local.get $f) (local.get $rowBytes))))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $eachPosition)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachSample))))

  ;; y[0..n) += g · x[0..n)
  (func $axpy (param $g f32) (param $x i32) (param $y i32) (param $n i32)
    (local $gv v128) (local $end i32) (local $vectorEnd i32)
    (local.set $gv (f32x4.splat (local.get $g)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vectorEnd (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $x) (local.get $vectorEnd)))
        (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $gv) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $vectors)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $y) (f32.add (f32.load (local.get $y)) (f32.mul (local.get $g) (f32.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail))))

  ;; n floats of zeros from `at`, 4 at a time, then the rest one by one.
  (func $zero (param $at i32) (param $n i32)
    (local $end i32) (local $vectorEnd i32)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vectorEnd (i32.add (local.get $at) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (v128.store (local.get $at) (v128.const i32x4 0 0 0 0))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (local.get $at) (f32.const 0))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $each)))))
