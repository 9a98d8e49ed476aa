{
  "extends": "__ROOT__/tsconfig.base.json",
  "compilerOptions": { "noEmit": true, "customConditions": ["@seatkeeper/source"] },
  "include": ["src", "test", "*.ts"]
}
