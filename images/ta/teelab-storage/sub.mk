# SPDX-License-Identifier: BSD-2-Clause
global-incdirs-y += include
# tl_ta.h: the entry points and CMD_SLEEP every lab TA shares
global-incdirs-y += ../common/include
srcs-y += teelab_storage_ta.c
