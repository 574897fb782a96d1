import { Module } from '@nestjs/common';
import { StockController } from './stock.controller';
import { StockScripts } from './stock.scripts';
import { StockService } from './stock.service';

/** Stock levels over HTTP, and the scripts that change them. */
@Module({ controllers: [StockController], providers: [StockService, StockScripts], exports: [StockScripts] })
export class StockModule {}
