; An elementwise add of two 1x2x3x4 tensors (lowbit.add rescaling,
; input_shift 20), and a copy whose three strided stores transpose a
; 3x4 matrix into 4x3.
.dram 120
.input a shape=1x2x3x4 addr=24 scale=0.05 zp=-3
.input b shape=1x2x3x4 addr=48 scale=0.025 zp=5
.input m shape=3x4 addr=72 scale=0.5 zp=0
.output y shape=1x2x3x4 addr=84 scale=0.1 zp=-1
.output mt shape=4x3 addr=108 scale=0.5 zp=0
.data 24
.bytes 000000401f00000000000060200000000000005032000000
load buf=1 dram=0 sram=0 rows=1 cols=24 elem=1 stride=24 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0
load buf=0 dram=24 sram=0 rows=1 cols=84 elem=1 stride=84 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 push_next
add src_a=0 src_b=24 dst=0 count=24 params=0 input_shift=20 round=0 a_zp=-3 b_zp=5 out_zp=-1 qmin=-128 qmax=127 pop_prev
copy src=48 dst=24 bytes=12 push_next
store dram=84 sram=0 rows=1 cols=24 elem=1 stride=24 pop_prev
store dram=108 sram=24 rows=4 cols=1 elem=1 stride=3
store dram=109 sram=28 rows=4 cols=1 elem=1 stride=3
store dram=110 sram=32 rows=4 cols=1 elem=1 stride=3
