;; Data movement for the training kernels, 4 floats at a time, on the tfjs wasm backend's own heap (the memory is
;; imported). Arguments are byte offsets. transpose and scatterAdd give bit-identical results to the JavaScript
;; loops they replace (transposeStreams and scatterAdd): a transpose only moves floats, and each output float of
;; scatterAdd receives the same float32 additions in the same order. convFilterGrad (the dense Conv1D filter
;; gradient) and convInputGrad (the dense Conv1D input gradient) sum in their own order, so they match the matmul
;; paths they replace only to rounding.

(module
  (import "tfjs" "memory" (memory 1))

  ;; out[cols × rows] = transpose of x[rows × cols], in 4 × 4 blocks: four rows of x are read 16 bytes each and
  ;; four output rows are written as sequential streams, which stay within the cache's associativity whatever the
  ;; stride. Rows and columns beyond the last multiple of 4 are moved one float at a time.
  (func (export "transpose") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $rows4 i32) (local $cols4 i32) (local $rowBytes i32) (local $outRowBytes i32)
    (local $src i32) (local $dst i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $outRowBytes (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $c (i32.const 0))
    (block $blockColumnsDone
      (loop $blockColumns
        (br_if $blockColumnsDone (i32.ge_u (local.get $c) (local.get $cols4)))
        (local.set $r (i32.const 0))
        (block $blockRowsDone
          (loop $blockRows
            (br_if $blockRowsDone (i32.ge_u (local.get $r) (local.get $rows4)))
            (local.set $src (i32.add (local.get $x)
              (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
            (local.set $a0 (v128.load (local.get $src)))
            (local.set $a1 (v128.load (i32.add (local.get $src) (local.get $rowBytes))))
            (local.set $a2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $a3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            ;; t0 = a0[0] a1[0] a0[1] a1[1], t1 = a0[2] a1[2] a0[3] a1[3]; t2, t3 the same for a2, a3.
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
            (local.set $dst (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $dst) (local.get $outRowBytes))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $outRowBytes) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $dst) (i32.mul (local.get $outRowBytes) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $blockRows)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $blockColumns)))
    ;; The last rows % 4 rows, every column; then the last cols % 4 columns of the other rows.
    (call $transposeScalar (local.get $x) (local.get $out) (local.get $rows) (local.get $cols)
      (local.get $rows4) (local.get $rows) (i32.const 0) (local.get $cols))
    (call $transposeScalar (local.get $x) (local.get $out) (local.get $rows) (local.get $cols)
      (i32.const 0) (local.get $rows4) (local.get $cols4) (local.get $cols)))

  ;; out[c, r] = x[r, c] for r in [r0, r1), c in [c0, c1).
  (func $transposeScalar (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (param $r0 i32) (param $r1 i32) (param $c0 i32) (param $c1 i32)
    (local $r i32) (local $c i32)
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $c (local.get $c0))
        (block $colsDone
          (loop $eachCol
            (br_if $colsDone (i32.ge_u (local.get $c) (local.get $c1)))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
              (f32.load (i32.add (local.get $x)
                (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $eachCol)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow))))

  ;; out[numSegments × rowSize] = 0, then out[ids[i]] += x[i] for every row i of x (float32 rows, int32 ids);
  ;; rows whose id is outside [0, numSegments) are skipped, as tf.unsortedSegmentSum does.
  (func (export "scatterAdd") (param $x i32) (param $ids i32) (param $out i32) (param $count i32) (param $rowSize i32)
    (param $numSegments i32)
    (local $i i32) (local $id i32) (local $src i32) (local $dst i32) (local $end i32) (local $vectorEnd i32)
    (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $rowSize) (i32.const 2)))
    (call $zero (local.get $out) (i32.mul (local.get $numSegments) (local.get $rowBytes)))
    (block $done
      (loop $eachRow
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.lt_u (local.get $id) (local.get $numSegments))
          (then
            (local.set $src (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $dst (i32.add (local.get $out) (i32.mul (local.get $id) (local.get $rowBytes))))
            (local.set $end (i32.add (local.get $src) (local.get $rowBytes)))
            (local.set $vectorEnd (i32.add (local.get $src) (i32.and (local.get $rowBytes) (i32.const -16))))
            (block $vectorsDone
              (loop $vectors
                (br_if $vectorsDone (i32.ge_u (local.get $src) (local.get $vectorEnd)))
                (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
                (local.set $src (i32.add (local.get $src) (i32.const 16)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (br $vectors)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_u (local.get $src) (local.get $end)))
                (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
                (local.set $src (i32.add (local.get $src) (i32.const 4)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                (br $tail)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $eachRow))))

  ;; dw[k, c, f] = Σ_b Σ_t x[b, t + k − padLeft, c] · dy[b, t, f], the filter gradient of a stride-1 Conv1D, summed
  ;; over the positions t whose input row lies inside the sample (zero padding adds nothing): x [B, W, C],
  ;; dy [B, outW, F], dw [K, C, F] (the filter's own layout); C a multiple of 4, F of 8. Sample by sample (its rows
  ;; of x and dy stay in cache), each tap's dw is swept in tiles of 4 channels × 8 filters whose sums stay in
  ;; registers across the sample's positions: per position two vectors of dy and four broadcast floats of x, 32
  ;; multiply-adds. Reads x and dy in place, so unlike a matmul it packs and transposes nothing.
  (func (export "convFilterGrad") (param $x i32) (param $dy i32) (param $dw i32) (param $B i32) (param $W i32)
    (param $C i32) (param $outW i32) (param $F i32) (param $K i32) (param $padLeft i32)
    (local $b i32) (local $k i32) (local $t0 i32) (local $n i32) (local $c i32) (local $f i32) (local $i i32)
    (local $xRowBytes i32) (local $dyRowBytes i32) (local $xTap i32) (local $dyTap i32) (local $dwTap i32)
    (local $acc0 i32) (local $acc1 i32) (local $acc2 i32) (local $acc3 i32) (local $px i32) (local $pd i32)
    (local $s v128) (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $xRowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $dyRowBytes (i32.shl (local.get $F) (i32.const 2)))
    (call $zero (local.get $dw) (i32.mul (i32.mul (local.get $K) (local.get $C)) (local.get $dyRowBytes)))
    (block $samplesDone
      (loop $eachSample
        (br_if $samplesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $k (i32.const 0))
        (block $tapsDone
          (loop $eachTap
            (br_if $tapsDone (i32.ge_u (local.get $k) (local.get $K)))
            ;; t0 = max(0, padLeft − k), n = min(outW, W + padLeft − k) − t0 (signed: may be ≤ 0).
            (local.set $t0 (i32.sub (local.get $padLeft) (local.get $k)))
            (if (i32.lt_s (local.get $t0) (i32.const 0)) (then (local.set $t0 (i32.const 0))))
            (local.set $n (i32.sub (i32.add (local.get $W) (local.get $padLeft)) (local.get $k)))
            (if (i32.gt_s (local.get $n) (local.get $outW)) (then (local.set $n (local.get $outW))))
            (local.set $n (i32.sub (local.get $n) (local.get $t0)))
            (if (i32.gt_s (local.get $n) (i32.const 0))
              (then
                ;; x row b·W + t0 + k − padLeft, dy row b·outW + t0, dw block k.
                (local.set $xTap (i32.add (local.get $x) (i32.mul (local.get $xRowBytes)
                  (i32.sub (i32.add (i32.add (i32.mul (local.get $b) (local.get $W)) (local.get $t0)) (local.get $k))
                    (local.get $padLeft)))))
                (local.set $dyTap (i32.add (local.get $dy) (i32.mul (local.get $dyRowBytes)
                  (i32.add (i32.mul (local.get $b) (local.get $outW)) (local.get $t0)))))
                (local.set $dwTap (i32.add (local.get $dw)
                  (i32.mul (i32.mul (local.get $k) (local.get $C)) (local.get $dyRowBytes))))
                (local.set $c (i32.const 0))
                (block $channelsDone
                  (loop $eachChannelBlock
                    (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $C)))
                    (local.set $f (i32.const 0))
                    (block $filtersDone
                      (loop $eachFilterBlock
                        (br_if $filtersDone (i32.ge_u (local.get $f) (local.get $F)))
                        ;; The tile's four rows of dw: channels c … c + 3, filters f … f + 7.
                        (local.set $acc0 (i32.add (local.get $dwTap)
                          (i32.shl (i32.add (i32.mul (local.get $c) (local.get $F)) (local.get $f)) (i32.const 2))))
                        (local.set $acc1 (i32.add (local.get $acc0) (local.get $dyRowBytes)))
                        (local.set $acc2 (i32.add (local.get $acc1) (local.get $dyRowBytes)))
                        (local.set $acc3 (i32.add (local.get $acc2) (local.get $dyRowBytes)))
                        (local.set $a00 (v128.load (local.get $acc0)))
                        (local.set $a01 (v128.load offset=16 (local.get $acc0)))
                        (local.set $a10 (v128.load (local.get $acc1)))
                        (local.set $a11 (v128.load offset=16 (local.get $acc1)))
                        (local.set $a20 (v128.load (local.get $acc2)))
                        (local.set $a21 (v128.load offset=16 (local.get $acc2)))
                        (local.set $a30 (v128.load (local.get $acc3)))
                        (local.set $a31 (v128.load offset=16 (local.get $acc3)))
                        (local.set $px (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $pd (i32.add (local.get $dyTap) (i32.shl (local.get $f) (i32.const 2))))
                        (local.set $i (local.get $n))
                        (loop $eachPosition
                          (local.set $d0 (v128.load (local.get $pd)))
                          (local.set $d1 (v128.load offset=16 (local.get $pd)))
                          (local.set $s (v128.load32_splat (local.get $px)))
                          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                          (local.set $s (v128.load32_splat offset=4 (local.get $px)))
                          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
                          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
                          (local.set $s (v128.load32_splat offset=8 (local.get $px)))
                          (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
                          (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
                          (local.set $s (v128.load32_splat offset=12 (local.get $px)))
                          (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
                          (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
                          (local.set $px (i32.add (local.get $px) (local.get $xRowBytes)))
                          (local.set $pd (i32.add (local.get $pd) (local.get $dyRowBytes)))
                          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                          (br_if $eachPosition (local.get $i)))
                        (v128.store (local.get $acc0) (local.get $a00))
                        (v128.store offset=16 (local.get $acc0) (local.get $a01))
                        (v128.store (local.get $acc1) (local.get $a10))
                        (v128.store offset=16 (local.get $acc1) (local.get $a11))
                        (v128.store (local.get $acc2) (local.get $a20))
                        (v128.store offset=16 (local.get $acc2) (local.get $a21))
                        (v128.store (local.get $acc3) (local.get $a30))
                        (v128.store offset=16 (local.get $acc3) (local.get $a31))
                        (local.set $f (i32.add (local.get $f) (i32.const 8)))
                        (br $eachFilterBlock)))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $eachChannelBlock)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $eachTap)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachSample))))

;; dx[b, i, c] = Σ_k Σ_f dy[b, i − k + padLeft, f] · wt[k, f, c], the input gradient of a stride-1 Conv1D, summed
  ;; over the taps whose dy row lies inside the sample (zero padding adds nothing): dy [B, outW, F], wt [K, F, C] (the
  ;; filter with each tap transposed, so channels are contiguous), dx [B, W, C]; C a multiple of 4, F ≥ 1. Sample by
  ;; sample and 8 channels at a time (that slice of wt and the sample's dy stay in L1), the rows where every tap is
  ;; inside the sample run in tiles of 4 rows × 8 channels whose sums stay in registers across all K·F terms: per
  ;; term two vectors of wt and four broadcast floats of dy, 32 multiply-adds. The last 4 channels when C is not a
  ;; multiple of 8 run as 4 × 4 tiles, and the rows near the edges (and the last rows % 4) one row at a time.
  (func (export "convInputGrad") (param $dy i32) (param $wt i32) (param $dx i32) (param $B i32) (param $W i32)
    (param $C i32) (param $outW i32) (param $F i32) (param $K i32) (param $padLeft i32)
    (local $b i32) (local $c i32) (local $i i32) (local $lo i32) (local $hi i32) (local $tilesEnd i32)
    (local $kLo i32) (local $kHi i32) (local $xRowBytes i32) (local $dyRowBytes i32) (local $tapBytes i32)
    (local $dySample i32) (local $dxSample i32) (local $width i32)
    (local.set $xRowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $dyRowBytes (i32.shl (local.get $F) (i32.const 2)))
    (local.set $tapBytes (i32.mul (local.get $F) (local.get $xRowBytes)))
    ;; Rows [lo, hi) see every tap: i − (K − 1) + padLeft ≥ 0 and i + padLeft < outW.
    (local.set $lo (i32.sub (i32.sub (local.get $K) (i32.const 1)) (local.get $padLeft)))
    (if (i32.lt_s (local.get $lo) (i32.const 0)) (then (local.set $lo (i32.const 0))))
    (local.set $hi (i32.sub (local.get $outW) (local.get $padLeft)))
    (if (i32.gt_s (local.get $hi) (local.get $W)) (then (local.set $hi (local.get $W))))
    (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
    (if (i32.gt_s (local.get $lo) (local.get $W)) (then (local.set $lo (local.get $W)) (local.set $hi (local.get $W))))
    (local.set $tilesEnd (i32.add (local.get $lo) (i32.and (i32.sub (local.get $hi) (local.get $lo)) (i32.const -4))))
    (block $samplesDone
      (loop $eachSample
        (br_if $samplesDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $dySample (i32.add (local.get $dy)
          (i32.mul (i32.mul (local.get $b) (local.get $outW)) (local.get $dyRowBytes))))
        (local.set $dxSample (i32.add (local.get $dx)
          (i32.mul (i32.mul (local.get $b) (local.get $W)) (local.get $xRowBytes))))
        (local.set $c (i32.const 0))
        (block $channelsDone
          (loop $eachChannelBlock
            (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $C)))
            (local.set $width (i32.sub (local.get $C) (local.get $c)))
            (if (i32.gt_u (local.get $width) (i32.const 8)) (then (local.set $width (i32.const 8))))
            ;; Rows whose taps fall partly outside the sample, and the rows after the last full tile.
            (local.set $i (i32.const 0))
            (block $rowsDone
              (loop $eachRow
                (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $W)))
                (if (i32.and (i32.ge_u (local.get $i) (local.get $lo)) (i32.lt_u (local.get $i) (local.get $tilesEnd)))
                  (then (local.set $i (local.get $tilesEnd)) (br $eachRow)))
                ;; Taps k with 0 ≤ i − k + padLeft < outW.
                (local.set $kLo (i32.sub (i32.add (i32.add (local.get $i) (local.get $padLeft)) (i32.const 1))
                  (local.get $outW)))
                (if (i32.lt_s (local.get $kLo) (i32.const 0)) (then (local.set $kLo (i32.const 0))))
                (local.set $kHi (i32.add (i32.add (local.get $i) (local.get $padLeft)) (i32.const 1)))
                (if (i32.gt_s (local.get $kHi) (local.get $K)) (then (local.set $kHi (local.get $K))))
                (call $inputGradRow
                  (i32.add (local.get $dySample) (i32.mul (local.get $dyRowBytes)
                    (i32.sub (i32.add (local.get $i) (local.get $padLeft)) (local.get $kLo))))
                  (i32.add (i32.add (local.get $wt) (i32.mul (local.get $kLo) (local.get $tapBytes)))
                    (i32.shl (local.get $c) (i32.const 2)))
                  (i32.add (i32.add (local.get $dxSample) (i32.mul (local.get $i) (local.get $xRowBytes)))
                    (i32.shl (local.get $c) (i32.const 2)))
                  (local.get $F) (i32.sub (local.get $kHi) (local.get $kLo)) (local.get $dyRowBytes)
                  (local.get $xRowBytes) (i32.shr_u (local.get $width) (i32.const 2)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $eachRow)))
            ;; Full tiles of 4 rows.
            (local.set $i (local.get $lo))
            (block $tilesDone
              (loop $eachTile
                (br_if $tilesDone (i32.ge_u (local.get $i) (local.get $tilesEnd)))
                (if (i32.eq (local.get $width) (i32.const 8))
                  (then
                    (call $inputGradTile8
                      (i32.add (local.get $dySample)
                        (i32.mul (local.get $dyRowBytes) (i32.add (local.get $i) (local.get $padLeft))))
                      (i32.add (local.get $wt) (i32.shl (local.get $c) (i32.const 2)))
                      (i32.add (i32.add (local.get $dxSample) (i32.mul (local.get $i) (local.get $xRowBytes)))
                        (i32.shl (local.get $c) (i32.const 2)))
                      (local.get $F) (local.get $K) (local.get $dyRowBytes) (local.get $xRowBytes)))
                  (else
                    (call $inputGradTile4
                      (i32.add (local.get $dySample)
                        (i32.mul (local.get $dyRowBytes) (i32.add (local.get $i) (local.get $padLeft))))
                      (i32.add (local.get $wt) (i32.shl (local.get $c) (i32.const 2)))
                      (i32.add (i32.add (local.get $dxSample) (i32.mul (local.get $i) (local.get $xRowBytes)))
                        (i32.shl (local.get $c) (i32.const 2)))
                      (local.get $F) (local.get $K) (local.get $dyRowBytes) (local.get $xRowBytes))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $eachTile)))
            (local.set $c (i32.add (local.get $c) (i32.const 8)))
            (br $eachChannelBlock)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $eachSample))))

  ;; One 4-row × 8-channel tile of convInputGrad: $pd is dy's row for the tile's first row at tap 0 (rows for tap k
  ;; are k rows earlier), $pw wt at tap 0, filter 0, the tile's first channel; $out dx at the same row and channel.
  ;; Taps run 0 … K − 1 and filters 0 … F − 1 in turn, so $pw walks wt contiguously, one row of C per term.
  (func $inputGradTile8 (param $pd i32) (param $pw i32) (param $out i32) (param $F i32) (param $K i32)
    (param $dyRowBytes i32) (param $xRowBytes i32)
    (local $k i32) (local $f i32) (local $r2 i32) (local $r3 i32) (local $s v128) (local $w0 v128) (local $w1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $r2 (i32.shl (local.get $dyRowBytes) (i32.const 1)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $dyRowBytes)))
    (local.set $k (local.get $K))
    (loop $eachTap
      (local.set $f (local.get $F))
      (loop $eachFilter
        (local.set $w0 (v128.load (local.get $pw)))
        (local.set $w1 (v128.load offset=16 (local.get $pw)))
        (local.set $s (v128.load32_splat (local.get $pd)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $pd) (local.get $dyRowBytes))))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $pd) (local.get $r2))))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $pd) (local.get $r3))))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $w1))))
        (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
        (local.set $pw (i32.add (local.get $pw) (local.get $xRowBytes)))
        (local.set $f (i32.sub (local.get $f) (i32.const 1)))
        (br_if $eachFilter (local.get $f)))
      ;; Back over the row just read, and one row more: the next tap reads one row earlier.
      (local.set $pd (i32.sub (local.get $pd) (local.get $r2)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $eachTap (local.get $k)))
    (v128.store (local.get $out) (local.get $a00))
    (v128.store offset=16 (local.get $out) (local.get $a01))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a10))
    (v128.store offset=16 (local.get $out) (local.get $a11))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a20))
    (v128.store offset=16 (local.get $out) (local.get $a21))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a30))
    (v128.store offset=16 (local.get $out) (local.get $a31)))

  ;; inputGradTile8 for the last 4 channels of a C that is not a multiple of 8.
  (func $inputGradTile4 (param $pd i32) (param $pw i32) (param $out i32) (param $F i32) (param $K i32)
    (param $dyRowBytes i32) (param $xRowBytes i32)
    (local $k i32) (local $f i32) (local $r2 i32) (local $r3 i32) (local $w0 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $r2 (i32.shl (local.get $dyRowBytes) (i32.const 1)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $dyRowBytes)))
    (local.set $k (local.get $K))
    (loop $eachTap
      (local.set $f (local.get $F))
      (loop $eachFilter
        (local.set $w0 (v128.load (local.get $pw)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load32_splat (local.get $pd)) (local.get $w0))))
        (local.set $a1 (f32x4.add (local.get $a1)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $pd) (local.get $dyRowBytes))) (local.get $w0))))
        (local.set $a2 (f32x4.add (local.get $a2)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $pd) (local.get $r2))) (local.get $w0))))
        (local.set $a3 (f32x4.add (local.get $a3)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $pd) (local.get $r3))) (local.get $w0))))
        (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
        (local.set $pw (i32.add (local.get $pw) (local.get $xRowBytes)))
        (local.set $f (i32.sub (local.get $f) (i32.const 1)))
        (br_if $eachFilter (local.get $f)))
      (local.set $pd (i32.sub (local.get $pd) (local.get $r2)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $eachTap (local.get $k)))
    (v128.store (local.get $out) (local.get $a0))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a1))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a2))
    (local.set $out (i32.add (local.get $out) (local.get $xRowBytes)))
    (v128.store (local.get $out) (local.get $a3)))

  ;; One row of convInputGrad over $taps taps (possibly none: the row is zeroed), $vectors groups of 4 channels:
  ;; $pd, $pw and $out as for inputGradTile8, at the row's first tap.
  (func $inputGradRow (param $pd i32) (param $pw i32) (param $out i32) (param $F i32) (param $taps i32)
    (param $dyRowBytes i32) (param $xRowBytes i32) (param $vectors i32)
    (local $v i32) (local $k i32) (local $f i32) (local $d i32) (local $w i32) (local $a v128)
    (block $vectorsDone
      (loop $eachVector
        (br_if $vectorsDone (i32.ge_u (local.get $v) (local.get $vectors)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $d (local.get $pd))
        (local.set $w (i32.add (local.get $pw) (i32.shl (local.get $v) (i32.const 4))))
        (local.set $k (i32.const 0))
        (block $tapsDone
          (loop $eachTap
            (br_if $tapsDone (i32.ge_s (local.get $k) (local.get $taps)))
            (local.set $f (local.get $F))
            (loop $eachFilter
              (local.set $a (f32x4.add (local.get $a)
                (f32x4.mul (v128.load32_splat (local.get $d)) (v128.load (local.get $w)))))
              (local.set $d (i32.add (local.get $d) (i32.const 4)))
              (local.set $w (i32.add (local.get $w) (local.get $xRowBytes)))
              (local.set $f (i32.sub (local.get $f) (i32.const 1)))
              (br_if $eachFilter (local.get $f)))
            (local.set $d (i32.sub (local.get $d) (i32.shl (local.get $dyRowBytes) (i32.const 1))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $eachTap)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $v) (i32.const 4))) (local.get $a))
        (local.set $v (i32.add (local.get $v) (i32.const 1)))
        (br $eachVector))))

  ;; bytes zero bytes from `at` (bytes is a multiple of 4).
  (func $zero (param $at i32) (param $bytes i32)
    (local $end i32) (local $vectorEnd i32)
    (local.set $end (i32.add (local.get $at) (local.get $bytes)))
    (local.set $vectorEnd (i32.add (local.get $at) (i32.and (local.get $bytes) (i32.const -16))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (v128.store (local.get $at) (v128.const i32x4 0 0 0 0))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (i32.store (local.get $at) (i32.const 0))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $tail)))))
