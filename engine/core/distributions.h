// Distribution functions for the engine's tests (t tests of coefficients,
// cluster-robust group comparisons, Wald tests). One implementation, shared by
// fit/ and study/.
//
// Algorithm: the regularised incomplete beta I_x(a, b) by its continued
// fraction, evaluated with the modified Lentz method (Lentz 1976; Thompson and
// Barnett 1986), on the side of x where it converges fast
// (x < (a+1)/(a+b+2), else 1 - I_{1-x}(b, a)); the regularised upper
// incomplete gamma Q(a, x) by its series (x < a+1) or continued fraction.
// Numerical Recipes (Press et al., 3rd ed., 6.2 and 6.4) derives both.
#pragma once

namespace cwfx {

// Regularised incomplete beta I_x(a, b), a, b > 0; 0 for x <= 0, 1 for x >= 1.
double RegularizedIncompleteBeta(double a, double b, double x);

// Regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), a > 0;
// 1 for x <= 0.
double RegularizedGammaQ(double a, double x);

// Two-sided p-value P(|T| > |t|) of Student's t with `dof` degrees of freedom:
// I_{dof/(dof+t^2)}(dof/2, 1/2). NaN for NaN t or dof <= 0 (no residual
// degrees of freedom: no test); 0 for infinite t.
double StudentTwoSidedP(double t, double dof);

// Two-sided p-value P(|Z| > |z|) of the standard normal; NaN for NaN z.
double NormalTwoSidedP(double z);

// Upper-tail p-value P(F > f) of F(d1, d2): I_{d2/(d2+d1 f)}(d2/2, d1/2).
// d2 <= 0 means the chi-squared limit: P(chi2(d1) > d1 f) = Q(d1/2, d1 f/2).
// NaN for NaN f or d1 <= 0; 1 for f <= 0; 0 for infinite f.
double FUpperP(double f, double d1, double d2);

}  // namespace cwfx
