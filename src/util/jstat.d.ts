// Types of the one jstat function taxiway uses (the package ships none; it is CommonJS: a default export).
declare module 'jstat' {
  const jStat: {
    studentt: {
      /** The p-quantile of Student's t distribution with `dof` degrees of freedom (dof may be fractional). */
      inv(p: number, dof: number): number;
    };
  };
  export default jStat;
}
