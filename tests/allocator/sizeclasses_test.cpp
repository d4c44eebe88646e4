// Size classes: every request size 1..32768 maps to the class Go picks, and the table is Go's.
#include "spanscope/detail/sizeclasses.h"

#include <gtest/gtest.h>

using namespace spanscope;

TEST(SizeClasses, EverySizeMapsToSmallestFittingClass) {
    for (size_t size = 1; size <= kMaxSmallSize; size++) {
        int c = sizeToClass(size);
        ASSERT_GE(c, 1) << size;
        ASSERT_LT(c, kNumSizeClasses) << size;
        ASSERT_GE(kClassToSize[c], size) << "size " << size << " -> class " << c;
        ASSERT_LT(kClassToSize[c - 1], size)
            << "size " << size << " -> class " << c << " is not the smallest";
    }
}

TEST(SizeClasses, TableMatchesGoObjectCountsAndTailWaste) {
    // (class, objects per span, tail waste) rows copied from Go's sizeclasses.go.
    struct Row {
        int cls, objs, tail;
    } rows[] = {{1, 1024, 0},  {3, 341, 8},  {5, 170, 32}, {11, 56, 128}, {28, 12, 512},
                {35, 11, 896}, {41, 8, 0},   {45, 5, 256}, {50, 7, 768},  {52, 6, 512},
                {57, 3, 256},  {65, 3, 128}, {67, 1, 0}};
    for (auto r : rows) {
        size_t span = size_t{kClassToAllocNPages[r.cls]} * kPageSize;
        EXPECT_EQ(span / kClassToSize[r.cls], size_t(r.objs)) << r.cls;
        EXPECT_EQ(span % kClassToSize[r.cls], size_t(r.tail)) << r.cls;
        EXPECT_EQ(classNelems(r.cls, true), r.objs);
    }
    EXPECT_EQ(kClassToSize[kNumSizeClasses - 1], 32768);
    EXPECT_EQ(kNumSpanClasses, 136);
    EXPECT_EQ(kTinySpanClass, 5);
}

TEST(SizeClasses, MksizeclassesRulesHold) {
    for (int c = 1; c < kNumSizeClasses; c++) {
        size_t size = kClassToSize[c], span = size_t{kClassToAllocNPages[c]} * kPageSize;
        EXPECT_LE(span % size, span / 8) << "tail waste over 12.5% in class " << c;
        // divMagic gives exact division over the whole span.
        for (size_t off = 0; off < span; off += size) {
            ASSERT_EQ((off * kSizeTables.divMagic[c]) >> 32, off / size);
        }
        if (c > 1) {
            EXPECT_GT(kClassToSize[c], kClassToSize[c - 1]);
        }
    }
}

// Malloc mode's spans: Go's page counts except for the classes of at most 1 KiB, whose spans hold
// at least 32 objects (576..1024 B: 3-4 pages instead of one page of 8-14), still within Go's
// 12.5% tail-waste rule and with divMagic exact for every byte of the larger span.
TEST(SizeClasses, MallocModeSpansOfSmallClassesHoldAtLeast32Objects) {
    EXPECT_EQ(classNPages(32, true), 4);  // 1024 B: 32 slots
    EXPECT_EQ(classNelems(32, true, true), 32);
    EXPECT_EQ(classNPages(27, true), 3);  // 576 B: 42 slots
    EXPECT_EQ(classNelems(27, true, true), 42);
    for (int c = 1; c < kNumSizeClasses; c++) {
        const size_t size = kClassToSize[c], npages = classNPages(c, true);
        EXPECT_EQ(classNPages(c, false), kClassToAllocNPages[c]) << "managed mode keeps Go's table";
        if (size > kSmallSizeMax) {
            EXPECT_EQ(npages, kClassToAllocNPages[c]) << c;
            continue;
        }
        EXPECT_GE(npages, kClassToAllocNPages[c]) << c;
        EXPECT_GE(classNelems(c, true, true), kMallocMinSpanSlots) << c;
        const size_t span = npages * kPageSize;
        EXPECT_LE(span % size, span / 8) << "tail waste over 12.5% in class " << c;
        for (size_t off = 0; off < span - span % size; off += size) {
            ASSERT_EQ((off * kSizeTables.divMagic[c]) >> 32, off / size) << c;
            ASSERT_EQ(((off + size - 1) * kSizeTables.divMagic[c]) >> 32, off / size) << c;
        }
    }
}

TEST(SizeClasses, ScanSpansReserveThePointerBitmap) {
    // Classic layout: scan spans of <= 512 B objects lose span/64 bytes (Go's heapBitsInSpan).
    EXPECT_EQ(classNelems(1, false), (8192 - 128) / 8);
    EXPECT_EQ(classNelems(2, false), (8192 - 128) / 16);
    EXPECT_EQ(classNelems(26, false), (8192 - 128) / 512);
    EXPECT_EQ(classNelems(27, false), 14);  // 576 B: header instead, no reservation
}
