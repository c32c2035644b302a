;; The pointwise LSTM cell maths of kernels/rnn.ts (lstmCellState, lstmCellOutput, lstmCellGrad), 4 units at a
;; time in float32, on the tfjs wasm backend's own heap (the memory is imported). Arguments are byte offsets; B is
;; the batch, H the units (a multiple of 4: kernels/rnn.ts keeps its JavaScript loops otherwise). A gate row is
;; [i f g o] of H floats each; cell rows (c, tanh c, h, dh, dc) are H floats.

(module
  (import "tfjs" "memory" (memory 1))

  ;; g = 2σ − 1 (stored back over the g gate), c' = f·c + i·g into cNext, and 2c' into c2 for the next sigmoid.
  (func (export "cellState") (param $gates i32) (param $cPrev i32) (param $cNext i32) (param $c2 i32)
    (param $B i32) (param $H i32)
    (local $b i32) (local $j i32) (local $rowBytes i32) (local $gateBytes i32) (local $row i32) (local $cell i32)
    (local $g v128) (local $c v128)
    (local.set $rowBytes (i32.shl (local.get $H) (i32.const 2)))
    (local.set $gateBytes (i32.shl (local.get $rowBytes) (i32.const 2)))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $row (i32.add (local.get $gates) (i32.mul (local.get $b) (local.get $gateBytes))))
        (local.set $cell (i32.mul (local.get $b) (local.get $rowBytes)))
        (local.set $j (i32.const 0))
        (loop $eachUnit
          (local.set $g (f32x4.sub
            (f32x4.add
              (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $j)))
              (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $j))))
            (f32x4.splat (f32.const 1))))
          (v128.store (i32.add (i32.add (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $j))
            (local.get $g))
          (local.set $c (f32x4.add
            (f32x4.mul
              (v128.load (i32.add (i32.add (local.get $row) (local.get $rowBytes)) (local.get $j)))
              (v128.load (i32.add (i32.add (local.get $cPrev) (local.get $cell)) (local.get $j))))
            (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j))) (local.get $g))))
          (v128.store (i32.add (i32.add (local.get $cNext) (local.get $cell)) (local.get $j)) (local.get $c))
          (v128.store (i32.add (i32.add (local.get $c2) (local.get $cell)) (local.get $j))
            (f32x4.add (local.get $c) (local.get $c)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $eachUnit (i32.lt_u (local.get $j) (local.get $rowBytes))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachRow))))

  ;; tanh(c') = 2σ(2c') − 1 into tc, and h' = o·tanh(c') into hNext.
  (func (export "cellOutput") (param $gates i32) (param $s2 i32) (param $tc i32) (param $hNext i32)
    (param $B i32) (param $H i32)
    (local $b i32) (local $j i32) (local $rowBytes i32) (local $gateBytes i32) (local $o i32) (local $cell i32)
    (local $t v128)
    (local.set $rowBytes (i32.shl (local.get $H) (i32.const 2)))
    (local.set $gateBytes (i32.shl (local.get $rowBytes) (i32.const 2)))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $o (i32.add (i32.add (local.get $gates) (i32.mul (local.get $b) (local.get $gateBytes)))
          (i32.mul (local.get $rowBytes) (i32.const 3))))
        (local.set $cell (i32.mul (local.get $b) (local.get $rowBytes)))
        (local.set $j (i32.const 0))
        (loop $eachUnit
          (local.set $t (v128.load (i32.add (i32.add (local.get $s2) (local.get $cell)) (local.get $j))))
          (local.set $t (f32x4.sub (f32x4.add (local.get $t) (local.get $t)) (f32x4.splat (f32.const 1))))
          (v128.store (i32.add (i32.add (local.get $tc) (local.get $cell)) (local.get $j)) (local.get $t))
          (v128.store (i32.add (i32.add (local.get $hNext) (local.get $cell)) (local.get $j))
            (f32x4.mul (v128.load (i32.add (local.get $o) (local.get $j))) (local.get $t)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $eachUnit (i32.lt_u (local.get $j) (local.get $rowBytes))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachRow))))

  ;; One step back through the cell: gate pre-activation gradients into dZ, the carried dc updated in place.
  ;; dh = dy (row b at dy + b·dyStride, or none when dy < 0) + dhr, the recurrent gradient from the later step.
  (func (export "cellGrad") (param $gates i32) (param $cPrev i32) (param $tc i32) (param $dZ i32) (param $dy i32)
    (param $dyStride i32) (param $dhr i32) (param $dc i32) (param $B i32) (param $H i32)
    (local $b i32) (local $j i32) (local $rowBytes i32) (local $gateBytes i32) (local $row i32) (local $out i32)
    (local $cell i32) (local $dyRow i32)
    (local $one v128) (local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $t v128)
    (local $dh v128) (local $dcv v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $rowBytes (i32.shl (local.get $H) (i32.const 2)))
    (local.set $gateBytes (i32.shl (local.get $rowBytes) (i32.const 2)))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $row (i32.add (local.get $gates) (i32.mul (local.get $b) (local.get $gateBytes))))
        (local.set $out (i32.add (local.get $dZ) (i32.mul (local.get $b) (local.get $gateBytes))))
        (local.set $cell (i32.mul (local.get $b) (local.get $rowBytes)))
        (local.set $dyRow (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $dyStride))))
        (local.set $j (i32.const 0))
        (loop $eachUnit
          (local.set $i (v128.load (i32.add (local.get $row) (local.get $j))))
          (local.set $f (v128.load (i32.add (i32.add (local.get $row) (local.get $rowBytes)) (local.get $j))))
          (local.set $g (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1)))
            (local.get $j))))
          (local.set $o (v128.load (i32.add (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 3)))
            (local.get $j))))
          (local.set $t (v128.load (i32.add (i32.add (local.get $tc) (local.get $cell)) (local.get $j))))
          (local.set $dh (v128.load (i32.add (i32.add (local.get $dhr) (local.get $cell)) (local.get $j))))
          (if (i32.ge_s (local.get $dy) (i32.const 0))
            (then (local.set $dh (f32x4.add (v128.load (i32.add (local.get $dyRow) (local.get $j))) (local.get $dh)))))
          (local.set $dcv (f32x4.add
            (v128.load (i32.add (i32.add (local.get $dc) (local.get $cell)) (local.get $j)))
            (f32x4.mul (f32x4.mul (local.get $dh) (local.get $o))
              (f32x4.sub (local.get $one) (f32x4.mul (local.get $t) (local.get $t))))))
          (v128.store (i32.add (local.get $out) (local.get $j))
            (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $g)) (local.get $i))
              (f32x4.sub (local.get $one) (local.get $i))))
          (v128.store (i32.add (i32.add (local.get $out) (local.get $rowBytes)) (local.get $j))
            (f32x4.mul
              (f32x4.mul
                (f32x4.mul (local.get $dcv) (v128.load (i32.add (i32.add (local.get $cPrev) (local.get $cell)) (local.get $j))))
                (local.get $f))
              (f32x4.sub (local.get $one) (local.get $f))))
          (v128.store (i32.add (i32.add (local.get $out) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $j))
            (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $i))
              (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
          (v128.store (i32.add (i32.add (local.get $out) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $j))
            (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dh) (local.get $t)) (local.get $o))
              (f32x4.sub (local.get $one) (local.get $o))))
          (v128.store (i32.add (i32.add (local.get $dc) (local.get $cell)) (local.get $j))
            (f32x4.mul (local.get $dcv) (local.get $f)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $eachUnit (i32.lt_u (local.get $j) (local.get $rowBytes))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachRow)))))
