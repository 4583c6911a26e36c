/* Geo kernels at every SIMD level this machine runs, against long double references. */
#include "blockops/bo_geo.h"
#include "bo_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define R_EARTH 6371008.8
static const long double D2R = 3.141592653589793238462643383279502884L / 180.0L;

static long double ref_hav_l(double a1, double o1, double a2, double o2)
{
    long double s1 = sinl(((long double)a2 - a1) * D2R / 2), s2 = sinl(((long double)o2 - o1) * D2R / 2);
    long double h = s1 * s1 + cosl(a1 * D2R) * cosl(a2 * D2R) * s2 * s2;
    return h;
}

static double ref_dist(double a1, double o1, double a2, double o2)
{
    long double h = ref_hav_l(a1, o1, a2, o2);
    return (double)(2.0L * R_EARTH * atan2l(sqrtl(h), sqrtl(1.0L - h)));
}

enum { NMAX = 1000 };
static double lat1[NMAX], lon1[NMAX], lat2[NMAX], lon2[NMAX], out[NMAX + 1];
static float flat1[NMAX], flon1[NMAX], flat2[NMAX], flon2[NMAX], fout[NMAX + 1];
static uint8_t mask[NMAX + 1];

static void fill(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lat1[i] = urand(-89.9, 89.9);
        lon1[i] = urand(-180, 180);
        /* a mix of near (metres to km) and far pairs; the long double reference is good to
         * ~1e-15 relative only when the pair is not metre-scale, so keep >= 100 m */
        double s = (i % 3 == 0) ? urand(-60, 60) : urand(-0.5, 0.5);
        lat2[i] = fmax(-90, fmin(90, lat1[i] + s));
        lon2[i] = lon1[i] + urand(-1, 1) * (i % 3 == 0 ? 170 : 0.7);
        if (lon2[i] >= 180) lon2[i] -= 360;
        if (lon2[i] < -180) lon2[i] += 360;
        flat1[i] = (float)lat1[i];
        flon1[i] = (float)lon1[i];
        flat2[i] = (float)lat2[i];
        flon2[i] = (float)lon2[i];
    }
}

static void test_level(bo_simd_level lvl)
{
    bo_geo_opts o = {lvl, 1, 1};
    bo_error err;
    printf("level %s\n", bo_simd_name(lvl));
    static const size_t lens[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1000};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        fill(n);
        out[n] = 12345.0; /* sentinel: kernels must not write past n */
        fout[n] = 12345.0f;
        mask[n] = 7;
        bo_error_clear(&err);
        CHECK(bo_haversine_f64(lat1, lon1, lat2, lon2, 0, out, n, R_EARTH, &o, &err) == BO_OK);
        CHECK(out[n] == 12345.0);
        for (size_t i = 0; i < n; i++) {
            double r = ref_dist(lat1[i], lon1[i], lat2[i], lon2[i]);
            if (r > 100.0 && r < 19.9e6)
                CHECKF(fabs(out[i] - r) <= 1e-12 * r, "n=%zu i=%zu got %.17g want %.17g", n, i, out[i], r);
        }
        CHECK(bo_haversine_f32(flat1, flon1, flat2, flon2, 0, fout, n, (float)R_EARTH, &o, &err) == BO_OK);
        CHECK(fout[n] == 12345.0f);
        for (size_t i = 0; i < n; i++) {
            double r = ref_dist(flat1[i], flon1[i], flat2[i], flon2[i]);
            if (r >= 100.0)
                CHECKF(fabs(fout[i] - r) <= 2e-6 * r, "f32 n=%zu i=%zu got %.9g want %.9g", n, i, fout[i], r);
        }
        /* broadcast second point equals the explicit array */
        double bc_lat = 41.5430216, bc_lon = -106.0831353;
        CHECK(bo_haversine_f64(lat1, lon1, &bc_lat, &bc_lon, 4u | 8u, out, n, R_EARTH, &o, &err) == BO_OK);
        for (size_t i = 0; i < n; i++) {
            double r = ref_dist(lat1[i], lon1[i], bc_lat, bc_lon);
            CHECKF(fabs(out[i] - r) <= 1e-12 * r, "bcast i=%zu", i);
        }
        /* within_radius against the reference (skip points within 1e-9 of the boundary), for
         * small circles (fast path), large ones, near a pole and across the antimeridian; the
         * points are scattered around each centre at 0..2 radii */
        static const double circ[][3] = {{41.5430216, -106.0831353, 2e3}, {41.54, -106.08, 100e3},
                                         {10, 179.999, 300e3}, {89.5, 0, 50e3}, {-30, 20, 600e3},
                                         {0, 0, 15e6}};
        for (size_t c = 0; c < sizeof circ / sizeof circ[0]; c++) {
            double clat = circ[c][0], clon = circ[c][1], radius = circ[c][2];
            double ang = radius / R_EARTH / (double)D2R;
            for (size_t i = 0; i < n; i++) {
                lat2[i] = fmax(-90, fmin(90, clat + urand(-2, 2) * ang));
                lon2[i] = clon + urand(-2, 2) * ang / fmax(0.05, cos(clat * (double)D2R));
                if (i % 4 == 0) {
                    /* within a few float32 ulps of the circle: the float32 kernel's rounding
                     * band decides these (it must give the float64 answer) */
                    double d = radius / R_EARTH * (1.0 + urand(-3e-6, 3e-6)), th = urand(0, 6.283);
                    double p1 = clat * (double)D2R;
                    double p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(th));
                    lat2[i] = p2 / (double)D2R;
                    lon2[i] = clon + atan2(sin(th) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2)) /
                                         (double)D2R;
                }
                lon2[i] = remainder(lon2[i], 360.0);
            }
            CHECK(bo_within_radius_f64(lat2, lon2, n, clat, clon, radius, R_EARTH, mask, &o, &err) == BO_OK);
            CHECK(mask[n] == 7);
            for (size_t i = 0; i < n; i++) {
                double r = ref_dist(lat2[i], lon2[i], clat, clon);
                if (fabs(r - radius) > 1e-9 * radius)
                    CHECKF(mask[i] == (r <= radius), "within c=%zu i=%zu d=%.17g r=%g", c, i, r, radius);
            }
            /* float32 points: the float64 decision on their exact (widened) values */
            static uint8_t mask32[NMAX + 1];
            for (size_t i = 0; i < n; i++) {
                flat2[i] = (float)lat2[i];
                flon2[i] = (float)lon2[i];
                lat2[i] = flat2[i];
                lon2[i] = flon2[i];
            }
            mask32[n] = 7;
            CHECK(bo_within_radius_f32(flat2, flon2, n, clat, clon, radius, R_EARTH, mask32, &o, &err) == BO_OK);
            CHECK(bo_within_radius_f64(lat2, lon2, n, clat, clon, radius, R_EARTH, mask, &o, &err) == BO_OK);
            CHECK(mask32[n] == 7);
            CHECK(memcmp(mask, mask32, n) == 0);
        }
        fill(n);
        double box[4] = {30, 50, 170, -170}; /* wraps */
        CHECK(bo_within_bbox_f64(lat1, lon1, n, box, mask, &o, &err) == BO_OK);
        for (size_t i = 0; i < n; i++)
            CHECK(mask[i] == (lat1[i] >= 30 && lat1[i] <= 50 && (lon1[i] >= 170 || lon1[i] <= -170)));
        CHECK(bo_within_bbox_f32(flat1, flon1, n, box, mask, &o, &err) == BO_OK);
        for (size_t i = 0; i < n; i++)
            CHECK(mask[i] == (flat1[i] >= 30 && flat1[i] <= 50 && (flon1[i] >= 170 || flon1[i] <= -170)));
    }

    /* NaN gives NaN / false; an out-of-range latitude is located exactly */
    fill(40);
    lat1[5] = NAN;
    lon2[6] = NAN;
    CHECK(bo_haversine_f64(lat1, lon1, lat2, lon2, 0, out, 40, R_EARTH, &o, &err) == BO_OK);
    CHECK(isnan(out[5]) && isnan(out[6]) && !isnan(out[7]));
    CHECK(bo_within_radius_f64(lat1, lon1, 40, 0, 0, 2e7, R_EARTH, mask, &o, &err) == BO_OK);
    CHECK(mask[5] == 0 && mask[6] == 1); /* 20,000 km covers the globe; NaN still false */
    lat2[23] = 90.5;
    lat1[31] = -91;
    bo_error_clear(&err);
    CHECK(bo_haversine_f64(lat1, lon1, lat2, lon2, 0, out, 40, R_EARTH, &o, &err) == BO_ERR_DOMAIN);
    CHECK(err.index == 23 && err.column == 2 && err.value == 90.5);
    o.validate = 0;
    CHECK(bo_haversine_f64(lat1, lon1, lat2, lon2, 0, out, 40, R_EARTH, &o, &err) == BO_OK);
    o.validate = 1;

    /* thread count does not change a single bit */
    enum { BIG = 100000 };
    double *a = malloc(BIG * sizeof *a), *b = malloc(BIG * sizeof *b);
    double *r1 = malloc(BIG * sizeof *r1), *r3 = malloc(BIG * sizeof *r3);
    CHECK(a && b && r1 && r3);
    if (a && b && r1 && r3) {
        for (size_t i = 0; i < BIG; i++) {
            a[i] = urand(-90, 90);
            b[i] = urand(-180, 180);
        }
        double c0 = 10, c1 = 20;
        o.n_threads = 1;
        CHECK(bo_haversine_f64(a, b, &c0, &c1, 12u, r1, BIG, R_EARTH, &o, &err) == BO_OK);
        o.n_threads = 3;
        CHECK(bo_haversine_f64(a, b, &c0, &c1, 12u, r3, BIG, R_EARTH, &o, &err) == BO_OK);
        CHECK(memcmp(r1, r3, BIG * sizeof *r1) == 0);
        o.n_threads = 1;
    }
    free(a);
    free(b);
    free(r1);
    free(r3);
}

/* Longitudes of any magnitude name the angle of their exact value modulo 360 (fmod is exact);
 * infinities give NaN. Every 5th pair has a huge lon1, so chunks mix both kinds. */
static void test_huge_longitudes(bo_simd_level lvl)
{
    static const double huge[] = {1e300, -1e300, 1.7976931348623157e308, 1e17, -3.3e15,
                                  17592186044416.5, 1e13 + 0.125, 720.0001, 359.99999, INFINITY};
    bo_geo_opts o = {lvl, 1, 1};
    bo_error err;
    enum { N = 200 };
    static double l1[N], o1[N], l2[N], o2[N], red[N], d[N], dr[N];
    for (size_t i = 0; i < N; i++) {
        l1[i] = urand(-80, 80);
        o1[i] = i % 5 == 2 ? huge[(i / 5) % (sizeof huge / sizeof huge[0])] : urand(-180, 180);
        double r = isinf(o1[i]) ? NAN : fmod(o1[i], 360.0);
        red[i] = r > 180 ? r - 360 : (r < -180 ? r + 360 : r);
        l2[i] = l1[i] + urand(-1e-4, 1e-4);
        o2[i] = isnan(red[i]) ? 0 : red[i] + urand(-1e-4, 1e-4);
    }
    CHECK(bo_haversine_f64(l1, o1, l2, o2, 0, d, N, R_EARTH, &o, &err) == BO_OK);
    CHECK(bo_haversine_f64(l1, red, l2, o2, 0, dr, N, R_EARTH, &o, &err) == BO_OK);
    for (size_t i = 0; i < N; i++) {
        if (isnan(red[i]))
            CHECKF(isnan(d[i]), "inf lon i=%zu gives %g", i, d[i]);
        else
            CHECKF(fabs(d[i] - dr[i]) <= 1e-12 * dr[i] + 1e-9, "huge lon i=%zu lon=%.17g d=%.17g exact-red %.17g",
                   i, o1[i], d[i], dr[i]);
    }
}

static void test_bbox_and_destination(void)
{
    bo_geo_opts o = {BO_SIMD_SCALAR, 1, 1};
    bo_error err;
    double box[4];
    /* the box contains every destination point at distance <= r, any bearing */
    const double centers[][2] = {{41.54, -106.08}, {0, 179.99}, {89.5, 10}, {-60, -179.5}};
    for (size_t c = 0; c < 4; c++) {
        double r = 150e3;
        CHECK(bo_radius_bbox(centers[c][0], centers[c][1], r, R_EARTH, box, &err) == BO_OK);
        for (int k = 0; k < 720; k++) {
            double la, lo, brg = k * 0.5, dist = r * (k % 7 == 0 ? 1.0 : urand(0, 1));
            CHECK(bo_destination_f64(&centers[c][0], &centers[c][1], &brg, &dist, 15u, 1, R_EARTH, &la, &lo, &o, &err) == BO_OK);
            uint8_t m;
            CHECK(bo_within_bbox_f64(&la, &lo, 1, box, &m, &o, &err) == BO_OK);
            CHECKF(m == 1, "center %zu bearing %g: (%.12g, %.12g) outside box", c, brg, la, lo);
            double d = ref_dist(centers[c][0], centers[c][1], la, lo);
            CHECKF(fabs(d - dist) <= 1e-9 * dist + 1e-6, "destination distance %.17g vs %.17g", d, dist);
        }
    }
    CHECK(bo_radius_bbox(0, 179.9, 50e3, R_EARTH, box, &err) == BO_OK);
    CHECK(box[2] > box[3]); /* crosses the antimeridian */
    CHECK(bo_radius_bbox(89.9, 0, 50e3, R_EARTH, box, &err) == BO_OK);
    CHECK(box[2] == -180 && box[3] == 180 && box[1] == 90);
    CHECK(bo_radius_bbox(91, 0, 1, R_EARTH, box, &err) == BO_ERR_DOMAIN);
    CHECK(bo_radius_bbox(0, 0, -1, R_EARTH, box, &err) == BO_ERR_ARG);
    CHECK(bo_radius_bbox(0, NAN, 1, R_EARTH, box, &err) == BO_ERR_ARG);

    /* local xy: signed and wrapped */
    double la[3] = {41, 41, 40}, lo[3] = {179.999, -179.999, 180}, x[3], y[3];
    CHECK(bo_to_local_xy_f64(la, lo, 3, 41, 180, R_EARTH, x, y, &o, &err) == BO_OK);
    CHECK(x[0] < 0 && x[1] > 0 && fabs(x[0] + x[1]) < 1e-6 && y[0] == 0 && y[2] < 0);
}

int main(void)
{
    for (int l = 0; l < BO_SIMD_NLEVELS; l++) {
        if (bo_simd_compiled((bo_simd_level)l) && bo_simd_cpu_supports((bo_simd_level)l)) {
            test_level((bo_simd_level)l);
            test_huge_longitudes((bo_simd_level)l);
        }
        else
            printf("level %s not available here: skipped\n", bo_simd_name((bo_simd_level)l));
    }
    /* asking for an unavailable level is an error, not a crash */
    bo_geo_opts bad = {(bo_simd_level)7, 1, 1};
    double z = 0, d;
    CHECK(bo_haversine_f64(&z, &z, &z, &z, 15u, &d, 1, R_EARTH, &bad, NULL) == BO_ERR_UNSUPPORTED);
    test_bbox_and_destination();
    TEST_MAIN_END();
}
