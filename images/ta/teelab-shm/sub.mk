# SPDX-License-Identifier: BSD-2-Clause
global-incdirs-y += include
srcs-y += teelab_shm_ta.c
